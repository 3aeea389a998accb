/**
 * Runs argon2() off the main thread, so a memory-hard keyslot never stalls a server's event loop.
 * The worker receives {params, password, salt}, posts back the tag, and zeroes its copies.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { argon2 } from './argon2.js';
import type { Argon2Params } from './argon2.js';

interface Job {
  params: Argon2Params;
  password: Uint8Array;
  salt: Uint8Array;
}

const job = workerData as Job;
try {
  const tag = argon2(job.params, job.password, job.salt);
  parentPort?.postMessage({ tag });
  tag.fill(0);
} catch (err) {
  parentPort?.postMessage({ error: err instanceof Error ? err.message : String(err) });
} finally {
  job.password.fill(0);
}
