/**
 * `cryptvisor disk encrypt|rekey|decrypt` killed with SIGKILL at 30+ random points each: running
 * the same command again resumes, and at the end the image's plaintext is intact (sha256), no
 * journal remains, and decrypt gives back the raw image byte for byte.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, cliAsync, prng } from '../support/cli.js';
import { xtsTransform } from '../support/xts-node.js';
import { journalPath } from '../../src/disk/index.js';

const DATA_OFFSET = 16 * 1024 * 1024;
const SIZE = 8 * 1024 * 1024;
const CHUNK = ['--chunk-size', '128K'];

function sha(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Runs the command; kills it after killMs (if given). Resolves true when it completed. */
function run(args: string[], killMs: number | undefined): Promise<{ finished: boolean; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = cliAsync(args);
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const timer = killMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killMs);
    child.on('exit', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (signal === 'SIGKILL') resolve({ finished: false, ms: Date.now() - t0 });
      else if (code === 0) resolve({ finished: true, ms: Date.now() - t0 });
      else reject(new Error(`${args.slice(0, 2).join(' ')} failed (${code}): ${err}`));
    });
  });
}

async function withCrashes(args: string[], rand: () => number, startMs: number, runMs: number): Promise<number> {
  let kills = 0;
  for (let i = 0; i < 1000; i++) {
    // Kill points spread over start-up and the run, so most runs move the conversion on a little.
    const r = await run(args, startMs * 0.8 + rand() * (startMs * 0.2 + runMs / 25));
    if (r.finished) return kills;
    kills++;
  }
  throw new Error('the conversion never finished');
}

test('disk encrypt, rekey and decrypt resume after kill -9 at 30+ random points each', { timeout: 600_000 }, async () => {
  const rand = prng(0x5eed);
  const dir = mkdtempSync(join(tmpdir(), 'cv-crash-'));
  const k1 = join(dir, 'k1');
  const k2 = join(dir, 'k2');
  assert.equal(cli(['disk', 'keygen', k1]).status, 0);
  assert.equal(cli(['disk', 'keygen', k2]).status, 0);
  const plain = Buffer.alloc(SIZE);
  for (let i = 0; i < SIZE; i += 4) plain.writeUInt32LE(Math.floor(rand() * 2 ** 32), i);
  const image = join(dir, 'disk.img');

  // Size the kill window: start-up alone (the disk group's help) and one whole uninterrupted conversion.
  const startMs = (await run(['disk', '--help'], undefined)).ms;
  const scratch = join(dir, 'scratch.img');
  writeFileSync(scratch, plain);
  const runMs = Math.max(50, (await run(['disk', 'encrypt', scratch, '--key-file', k1, ...CHUNK], undefined)).ms - startMs);

  writeFileSync(image, plain);
  const encKills = await withCrashes(['disk', 'encrypt', image, '--key-file', k1, ...CHUNK], rand, startMs, runMs);
  assert.ok(!existsSync(journalPath(image)), 'no journal after encrypt');
  const enc = readFileSync(image);
  assert.equal(enc.length, DATA_OFFSET + SIZE, 'the file grew by the header only');
  const payload = Buffer.from(enc.subarray(DATA_OFFSET));
  assert.notEqual(sha(payload), sha(plain), 'the payload is ciphertext');
  await xtsTransform(readFileSync(k1), 'decrypt')(payload, 0n);
  assert.equal(sha(payload), sha(plain), 'the payload decrypts to the raw image');

  const rekeyKills = await withCrashes(
    ['disk', 'rekey', image, '--key-file', k1, '--new-key-file', k2, ...CHUNK],
    rand,
    startMs,
    runMs * 2,
  );
  const rekeyed = Buffer.from(readFileSync(image).subarray(DATA_OFFSET));
  await xtsTransform(readFileSync(k2), 'decrypt')(rekeyed, 0n);
  assert.equal(sha(rekeyed), sha(plain), 'the payload decrypts under the new key');
  assert.equal(cli(['disk', 'describe', image]).status, 0);

  const decKills = await withCrashes(['disk', 'decrypt', image, '--key-file', k2, ...CHUNK], rand, startMs, runMs);
  assert.equal(sha(readFileSync(image)), sha(plain), 'decrypt gives back the raw image byte for byte');
  assert.ok(!existsSync(journalPath(image)));

  assert.ok(encKills >= 30, `encrypt killed ${encKills} times`);
  assert.ok(rekeyKills >= 30, `rekey killed ${rekeyKills} times`);
  assert.ok(decKills >= 30, `decrypt killed ${decKills} times`);
});
