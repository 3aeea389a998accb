/**
 * `cryptvisor disk encrypt|rekey|decrypt` killed with SIGKILL at 30+ random points each: running
 * the same command again resumes, and at the end the image's plaintext is intact (sha256), no
 * journal remains, and decrypt gives back the raw image byte for byte.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, cliAsync, prng } from '../support/cli.js';
import { xtsTransform } from '../support/xts-node.js';
import { journalPath } from '../../src/disk/index.js';
import { Journal } from '../../src/disk/journal.js';

const DATA_OFFSET = 16 * 1024 * 1024;
const SIZE = 2 * 1024 * 1024;
const CHUNK = ['--chunk-size', '64K'];

function mtimeMs(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function sha(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Whether the image has a journal with a committed record: a conversion under way, to resume. */
async function committedJournal(image: string): Promise<boolean> {
  const j = await Journal.open(image, false);
  if (j === undefined) return false;
  const committed = j.record !== undefined;
  await j.close();
  return committed;
}

/**
 * Runs the command. With `kill`, it is killed `kill.afterMs` after it first writes its journal (so the
 * kill lands inside the conversion whatever start-up costs), or, for `kill.early`, that long after
 * it starts. Resolves with whether it completed, and how long it ran once the journal appeared.
 * `resumes`: the image had a committed journal at the start, so this run resumes a conversion.
 */
function run(
  args: string[],
  journal: string | undefined,
  kill?: { afterMs: number; early: boolean },
  resumes = false,
): Promise<{ finished: boolean; killed: boolean; convertMs: number }> {
  return new Promise((resolve, reject) => {
    const child = cliAsync(args);
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    let journalAt = 0;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => (timer = setTimeout(() => child.kill('SIGKILL'), kill?.afterMs ?? 0));
    if (kill?.early) arm();
    const spawnedAt = Date.now();
    const poll = setInterval(() => {
      // The journal is written by this run once its mtime is newer than the spawn (a resumed
      // conversion finds the journal of the run before it already there).
      if (journalAt === 0 && journal && existsSync(journal) && mtimeMs(journal) >= spawnedAt) {
        journalAt = Date.now();
        if (kill && !kill.early) arm();
      }
    }, 1);
    child.on('exit', (code, signal) => {
      clearInterval(poll);
      if (timer) clearTimeout(timer);
      const convertMs = journalAt === 0 ? 0 : Date.now() - journalAt;
      // Killed after removing its journal (the commit point): the conversion is complete. A run that
      // resumes in the final phase writes no journal before removing it, so journalAt stays 0.
      const removed = (journalAt !== 0 || resumes) && !!journal && !existsSync(journal);
      if (signal === 'SIGKILL') resolve({ finished: removed, killed: true, convertMs });
      else if (code === 0) resolve({ finished: true, killed: false, convertMs });
      else reject(new Error(`${args.slice(0, 2).join(' ')} failed (${code}): ${err}`));
    });
  });
}

/**
 * Runs a conversion to completion, killing it at random points. The kill window adapts per
 * conversion: a run that completes before its kill narrows the window, so that kills keep landing
 * inside the conversion however fast this machine is. Returns the number of kills.
 */
async function withCrashes(args: string[], journal: string, rand: () => number, window: { ms: number }, startMs: number): Promise<number> {
  let kills = 0;
  for (let i = 0; i < 500; i++) {
    // Most kills land inside the conversion; one in ten during start-up.
    const early = rand() < 0.1;
    const afterMs = early ? rand() * startMs : rand() * window.ms;
    // args: disk OP IMAGE ...
    const r = await run(args, journal, { afterMs, early }, await committedJournal(args[2] as string));
    if (r.finished) {
      if (!r.killed) window.ms = Math.max(1, window.ms * 0.6);
      return kills + (r.killed ? 1 : 0);
    }
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
  const t0 = Date.now();
  await run(['disk', '--help'], undefined);
  const startMs = Date.now() - t0;
  const scratch = join(dir, 'scratch.img');
  writeFileSync(scratch, plain);
  const convertMs = Math.max(40, (await run(['disk', 'encrypt', scratch, '--key-file', k1, ...CHUNK], journalPath(scratch))).convertMs);
  const journal = journalPath(image);
  const windows = { encrypt: { ms: convertMs / 4 }, rekey: { ms: convertMs / 2 }, decrypt: { ms: convertMs / 4 } };

  writeFileSync(image, plain);
  // Cycles of encrypt → deep rekey → decrypt, each killed at random points, until every
  // conversion has been killed at least 30 times; the plaintext is checked after every resume.
  let encKills = 0;
  let rekeyKills = 0;
  let decKills = 0;
  let [from, to] = [k1, k2];
  for (let cycle = 0; cycle < 40 && (encKills < 30 || rekeyKills < 30 || decKills < 30); cycle++) {
    encKills += await withCrashes(['disk', 'encrypt', image, '--key-file', from, ...CHUNK], journal, rand, windows.encrypt, startMs);
    assert.ok(!existsSync(journal), 'no journal after encrypt');
    const enc = readFileSync(image);
    assert.equal(enc.length, DATA_OFFSET + SIZE, 'the file grew by the header only');
    const payload = Buffer.from(enc.subarray(DATA_OFFSET));
    assert.notEqual(sha(payload), sha(plain), 'the payload is ciphertext');
    await xtsTransform(readFileSync(from), 'decrypt')(payload, 0n);
    assert.equal(sha(payload), sha(plain), 'the payload decrypts to the raw image');

    rekeyKills += await withCrashes(['disk', 'rekey', image, '--key-file', from, '--new-key-file', to, ...CHUNK], journal, rand, windows.rekey, startMs);
    const rekeyed = Buffer.from(readFileSync(image).subarray(DATA_OFFSET));
    await xtsTransform(readFileSync(to), 'decrypt')(rekeyed, 0n);
    assert.equal(sha(rekeyed), sha(plain), 'the payload decrypts under the new key');

    decKills += await withCrashes(['disk', 'decrypt', image, '--key-file', to, ...CHUNK], journal, rand, windows.decrypt, startMs);
    assert.equal(sha(readFileSync(image)), sha(plain), 'decrypt gives back the raw image byte for byte');
    assert.ok(!existsSync(journal));
    [from, to] = [to, from];
  }

  assert.ok(encKills >= 30, `encrypt killed ${encKills} times`);
  assert.ok(rekeyKills >= 30, `rekey killed ${rekeyKills} times`);
  assert.ok(decKills >= 30, `decrypt killed ${decKills} times`);
});
