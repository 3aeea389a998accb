// Sealed files: round trips, and every kind of tampering is detected with the same error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretBytes } from './secret-bytes.js';
import { CryptoError, SEALED_INVALID_MESSAGE } from './errors.js';
import { seededBytes } from './testdata/seeded-bytes.js';
import { createSealedWriter } from './sealed-writer.js';
import { openSealedReader, readSealedFile } from './sealed-reader.js';
import { parseHeader, type SealedIdentity } from './sealed-format.js';

const CHUNK_LOG2 = 12;
const CHUNK = 1 << CHUNK_LOG2;
const RECORD = CHUNK + 16;
const id: SealedIdentity = { purpose: 'vm-suspend', fileId: 'vm-1234/suspend-1' };
let dir = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cv-sealed-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function seal(key: SecretBytes, name: string, data: Buffer, ident: SealedIdentity = id, pieces = 1): Promise<string> {
  const path = join(dir, name);
  const w = await createSealedWriter(key, path, { ...ident, chunkSizeLog2: CHUNK_LOG2 });
  const step = Math.max(1, Math.ceil(data.length / pieces));
  for (let off = 0; off < data.length; off += step) await w.write(data.subarray(off, off + step));
  await w.finish();
  return path;
}

function isSealedInvalid(e: unknown): boolean {
  return e instanceof CryptoError && e.code === 'sealed_invalid' && e.message === SEALED_INVALID_MESSAGE;
}

async function assertRejected(key: SecretBytes, path: string, why: string, ident: SealedIdentity = id): Promise<void> {
  await assert.rejects(readSealedFile(key, path, ident), isSealedInvalid, why);
}

test('round trip at chunk edges, in one write and in many; stored bytes differ from the plaintext', async () => {
  const key = SecretBytes.random(32);
  for (const n of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 77]) {
    const data = seededBytes(`rt-${n}`, n);
    for (const pieces of [1, 7]) {
      const path = await seal(key, `rt-${n}-${pieces}`, data, id, pieces);
      assert.deepEqual(await readSealedFile(key, path, id), data, `${n} bytes in ${pieces} writes`);
      const r = await openSealedReader(key, path, id);
      assert.equal(r.plaintextLength, n);
      assert.equal(r.header.chunkSize, CHUNK);
      await r.close();
      if (n >= 32) assert.equal((await readFile(path)).includes(data.subarray(0, 32)), false);
    }
  }
  assert.equal((await stat(join(dir, 'rt-1-1'))).mode & 0o777, 0o600);
  assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith('.tmp')), []);
});

test('the target appears only at finish; abort leaves nothing; a finished writer refuses more', async () => {
  const key = SecretBytes.random(32);
  const path = join(dir, 'staged');
  const w = await createSealedWriter(key, path, { ...id, chunkSizeLog2: CHUNK_LOG2, fsync: true });
  await w.write(Buffer.alloc(10000, 1));
  await assert.rejects(stat(path));
  await w.finish();
  assert.equal(w.bytesWritten, 10000);
  await assert.rejects(w.write(Buffer.alloc(1)), (e: unknown) => e instanceof CryptoError && e.code === 'sealed_state');
  const a = await createSealedWriter(key, join(dir, 'aborted'), { ...id, chunkSizeLog2: CHUNK_LOG2 });
  await a.write(Buffer.alloc(100));
  await a.abort();
  assert.deepEqual((await readdir(dir)).filter((f) => f.includes('aborted')), []);
});

test('truncation: the last chunk dropped, a cut mid-chunk, a cut header, an empty file', async () => {
  const key = SecretBytes.random(32);
  const path = await seal(key, 'trunc', seededBytes('trunc', 3 * CHUNK + 100));
  const full = await readFile(path);
  const headerLen = parseHeader(full).bytes.length;
  const cuts: [string, number][] = [
    ['last chunk dropped', headerLen + 3 * RECORD],
    ['two chunks dropped', headerLen + 2 * RECORD],
    ['mid-chunk', headerLen + RECORD + 100],
    ['in the last tag', full.length - 1],
    ['all chunks dropped', headerLen],
    ['header cut', headerLen - 3],
    ['empty', 0],
  ];
  for (const [why, len] of cuts) {
    const p = join(dir, `trunc-${len}`);
    await writeFile(p, full.subarray(0, len));
    await assert.rejects(readSealedFile(key, p, id), (e: unknown) => e instanceof CryptoError && e.code === 'sealed_invalid', why);
  }
  // A file that is exactly whole chunks, cut at a chunk boundary.
  const even = await readFile(await seal(key, 'even', seededBytes('even', 2 * CHUNK)));
  await writeFile(join(dir, 'even-cut'), even.subarray(0, even.length - RECORD));
  await assertRejected(key, join(dir, 'even-cut'), 'whole chunk dropped from an even file');
});

test('reordered chunks and appended bytes are detected', async () => {
  const key = SecretBytes.random(32);
  const full = await readFile(await seal(key, 'order', seededBytes('order', 3 * CHUNK + 5)));
  const h = parseHeader(full).bytes.length;
  const chunk = (i: number): Buffer => full.subarray(h + i * RECORD, h + (i + 1) * RECORD);
  const swapped = Buffer.concat([full.subarray(0, h), chunk(1), chunk(0), full.subarray(h + 2 * RECORD)]);
  await writeFile(join(dir, 'swapped'), swapped);
  await assertRejected(key, join(dir, 'swapped'), 'chunks 0 and 1 swapped');
  await writeFile(join(dir, 'appended'), Buffer.concat([full, Buffer.alloc(16)]));
  await assertRejected(key, join(dir, 'appended'), 'bytes appended');
  await writeFile(join(dir, 'dup'), Buffer.concat([full.subarray(0, h), chunk(0), chunk(0), full.subarray(h + 2 * RECORD)]));
  await assertRejected(key, join(dir, 'dup'), 'a chunk duplicated');
});

test('splicing across files: a chunk or a header from another file under the same key', async () => {
  const key = SecretBytes.random(32);
  const data = seededBytes('splice', 2 * CHUNK + 9);
  const a = await readFile(await seal(key, 'splice-a', data));
  const b = await readFile(await seal(key, 'splice-b', data)); // same key, id and plaintext; fresh salt and prefix
  const h = parseHeader(a).bytes.length;
  const mixed = Buffer.concat([a.subarray(0, h + RECORD), b.subarray(h + RECORD, h + 2 * RECORD), a.subarray(h + 2 * RECORD)]);
  await writeFile(join(dir, 'spliced-chunk'), mixed);
  await assertRejected(key, join(dir, 'spliced-chunk'), 'chunk 1 from another file');
  await writeFile(join(dir, 'spliced-header'), Buffer.concat([b.subarray(0, h), a.subarray(h)]));
  await assertRejected(key, join(dir, 'spliced-header'), 'header of another file');
  // A file sealed for one id, presented as another (moved or renamed).
  const other = await seal(key, 'other-id', data, { purpose: id.purpose, fileId: 'vm-1234/suspend-2' });
  await assertRejected(key, other, 'another file id');
  await assertRejected(key, other, 'another purpose', { purpose: 'vm-snapshot-memory', fileId: 'vm-1234/suspend-2' });
});

test('a flipped bit anywhere (header, ciphertext, tag) and a wrong key are detected', async () => {
  const key = SecretBytes.random(32);
  const full = await readFile(await seal(key, 'flip', seededBytes('flip', CHUNK + 40)));
  const h = parseHeader(full).bytes.length;
  const positions = [8 + 4, 12 + 3, 28 + 2, h - 1, h, h + 100, h + CHUNK + 3, h + RECORD - 1, h + RECORD + 5, full.length - 1];
  for (const pos of positions) {
    const bad = Buffer.from(full);
    bad[pos] = (bad[pos] ?? 0) ^ 0x10;
    const p = join(dir, `flip-${pos}`);
    await writeFile(p, bad);
    await assert.rejects(readSealedFile(key, p, id), (e: unknown) => e instanceof CryptoError && e.code === 'sealed_invalid', `byte ${pos}`);
  }
  await assertRejected(SecretBytes.random(32), join(dir, 'flip'), 'wrong key');
  await assert.rejects(readSealedFile(SecretBytes.random(16), join(dir, 'flip'), id), (e: unknown) => e instanceof CryptoError && e.code === 'key_invalid');
});

test('bad identities and chunk sizes are refused up front', async () => {
  const key = SecretBytes.random(32);
  const bad = (e: unknown): boolean => e instanceof CryptoError && e.code === 'argument_invalid';
  await assert.rejects(createSealedWriter(key, join(dir, 'x'), { purpose: 'Bad Purpose', fileId: 'a' }), bad);
  await assert.rejects(createSealedWriter(key, join(dir, 'x'), { purpose: 'p', fileId: '' }), bad);
  await assert.rejects(createSealedWriter(key, join(dir, 'x'), { purpose: 'p', fileId: 'a', chunkSizeLog2: 30 }), bad);
  await writeFile(join(dir, 'plain'), 'not sealed at all');
  await assert.rejects(readSealedFile(key, join(dir, 'plain'), id), (e: unknown) => e instanceof CryptoError && e.code === 'sealed_invalid');
});

test('random damage (seeded): every truncation, flip or insertion is refused with sealed_invalid', async () => {
  const key = SecretBytes.random(32);
  const full = await readFile(await seal(key, 'fuzz', seededBytes('fuzz', 2 * CHUNK + 333)));
  const rnd = seededBytes('fuzz-positions', 4 * 300);
  for (let i = 0; i < 300; i++) {
    const r = rnd.readUInt32BE(4 * i);
    const pos = r % full.length;
    let bad: Buffer;
    if (i % 3 === 0) bad = full.subarray(0, pos);
    else if (i % 3 === 1) {
      bad = Buffer.from(full);
      bad[pos] = (bad[pos] ?? 0) ^ (1 << (r >>> 29));
    } else bad = Buffer.concat([full.subarray(0, pos), Buffer.from([r & 0xff]), full.subarray(pos)]);
    const p = join(dir, 'fuzz-case');
    await writeFile(p, bad);
    await assert.rejects(readSealedFile(key, p, id), (e: unknown) => e instanceof CryptoError && e.code === 'sealed_invalid', `case ${i}`);
  }
});
