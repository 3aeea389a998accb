/**
 * Key derivation and the hashes LUKS2 names: pbkdf2 from Node's OpenSSL; argon2i and argon2id
 * from our own implementation (Node 20 has none, and the project takes no dependency for it),
 * run in a worker thread.
 */
import { getHashes, pbkdf2 } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { checkArgon2Params } from './argon2.js';
import type { Argon2Params } from './argon2.js';
import { LuksError } from './errors.js';
import type { Luks2Argon2, Luks2Pbkdf2 } from './metadata.js';

/** The largest argon2 memory cost we accept: cryptsetup's own limit, 4 GiB. */
export const MAX_ARGON2_MEMORY_KIB = 4 * 1024 * 1024;

const HASHES = new Set(getHashes());

/** Checks that Node implements the hash LUKS names (sha1, sha256, sha512, ripemd160, ...). */
export function checkHash(hash: string, where: string): string {
  if (!HASHES.has(hash)) throw new LuksError('not_supported', `${where}: hash "${hash}" is not supported`);
  return hash;
}

export function pbkdf2Async(
  secret: Uint8Array,
  salt: Uint8Array,
  iterations: number,
  keyLen: number,
  hash: string,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    pbkdf2(secret, salt, iterations, keyLen, hash, (err, key) => {
      if (err) reject(new LuksError('not_supported', `pbkdf2 with ${hash} failed`, { cause: err }));
      else resolve(key);
    });
  });
}

/** Argon2 in a worker thread. The caller zeroes the result. */
export function argon2Async(params: Argon2Params, password: Uint8Array, salt: Uint8Array): Promise<Buffer> {
  const problem = checkArgon2Params(params);
  if (problem !== null || params.memory > MAX_ARGON2_MEMORY_KIB) {
    return Promise.reject(
      new LuksError('not_supported', `argon2 parameters out of range: ${problem ?? 'memory above 4 GiB'}`),
    );
  }
  return new Promise((resolve, reject) => {
    const copy = Uint8Array.from(password); // moved to the worker, which zeroes it
    const worker = new Worker(new URL('./argon2-worker.js', import.meta.url), {
      workerData: { params, password: copy, salt: Uint8Array.from(salt) },
      transferList: [copy.buffer],
    });
    let settled = false;
    worker.once('message', (m: { tag?: Uint8Array; error?: string }) => {
      settled = true;
      if (m.tag !== undefined) {
        resolve(Buffer.from(m.tag));
        m.tag.fill(0);
      } else {
        reject(new LuksError('not_supported', `argon2 failed: ${m.error ?? 'unknown error'}`));
      }
    });
    worker.once('error', (cause) => {
      settled = true;
      reject(new LuksError('not_supported', 'argon2 failed (out of memory?)', { cause }));
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new LuksError('not_supported', `the argon2 worker exited with code ${code}`));
    });
  });
}

/** Derives keyLen bytes from a passphrase with a keyslot's kdf. The caller zeroes the result. */
export function deriveKey(
  kdf: Luks2Pbkdf2 | Luks2Argon2,
  passphrase: Uint8Array,
  keyLen: number,
): Promise<Buffer> {
  const salt = Buffer.from(kdf.salt, 'base64');
  if (kdf.type === 'pbkdf2')
    return pbkdf2Async(passphrase, salt, kdf.iterations, keyLen, checkHash(kdf.hash, 'keyslot kdf'));
  const params = {
    type: kdf.type,
    time: kdf.time,
    memory: kdf.memory,
    parallelism: kdf.cpus,
    tagLength: keyLen,
  };
  return argon2Async(params, passphrase, salt);
}
