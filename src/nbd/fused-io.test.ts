import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createDecipheriv } from 'node:crypto';
import { closeSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { SecretBytes, createXtsKey, getNativeXtsEngine, type XtsEngine } from '../crypto/index.js';
import { AlignedDevice } from './aligned-device.js';
import { EncryptedDevice } from './encrypted-device.js';
import { EngineXtsCipher } from './engine-cipher.js';
import { FileDevice } from './file-device.js';
import type { NbdError } from './errors.js';
import { SharedRangeLock } from './shared-range-lock.js';
import { nativePunchHole } from './sys-addon.js';
import type { SectorCipher } from './sector-cipher.js';
import { patternBytes, tempImage } from './device-test-support.js';

/** The key halves differ; fixed so the test is deterministic. */
const KEY = Buffer.concat([Buffer.alloc(32, 0x5a), Buffer.alloc(32, 0xa5)]);
const HEADER = 8192;

function decryptSector(ct: Buffer, unit: bigint): Buffer {
  const iv = Buffer.alloc(16);
  iv.writeBigUInt64LE(unit, 0);
  const d = createDecipheriv('aes-256-xts', KEY, iv);
  return Buffer.concat([d.update(ct), d.final()]);
}

/** The native engine, or null after skipping (outside CI) / failing (under CI=true) when the addon is missing. */
function nativeEngine(t: TestContext): XtsEngine | null {
  const engine = getNativeXtsEngine({ parallel: 2 });
  if (engine?.fileIo !== undefined) return engine;
  const msg = 'the native addon with fused file I/O is not built (npm install)';
  if (process.env['CI'] === 'true') assert.fail(msg);
  t.skip(msg);
  return null;
}

function cipher(engine: XtsEngine): EngineXtsCipher {
  return new EngineXtsCipher(createXtsKey(SecretBytes.from(Buffer.from(KEY))), engine);
}

test('fused pread+decrypt / encrypt+pwrite: ciphertext on disk is XTS plain64 with the iv_tweak at the range offset', async (t) => {
  const engine = nativeEngine(t);
  if (engine === null) return;
  const sectors = 600; // 2.4 MiB: a request this large is split into parallel jobs
  const path = tempImage(t, Buffer.alloc(HEADER + sectors * 4096));
  const dev = new EncryptedDevice(await FileDevice.open(path, { offset: HEADER }), cipher(engine), {
    ivTweak: 7n,
  });
  assert.equal(dev.fusedIo, true);
  const data = patternBytes((sectors - 1) * 4096, 11);
  await dev.write(4096, data, { fua: true });
  assert.deepEqual(await dev.read(4096, data.length), data);
  assert.deepEqual(await dev.read(8192, 4096), data.subarray(4096, 8192));
  await dev.writeZeroes(0, 4096, { fua: true });
  await dev.close();
  const raw = readFileSync(path);
  assert.ok(
    raw.subarray(0, HEADER).every((b) => b === 0),
    'header untouched',
  );
  for (const s of [1, 2, 300, sectors - 1]) {
    const ct = raw.subarray(HEADER + s * 4096, HEADER + (s + 1) * 4096);
    assert.deepEqual(
      decryptSector(ct, 7n + BigInt(s * 8)),
      data.subarray((s - 1) * 4096, s * 4096),
      `sector ${s}`,
    );
  }
  assert.deepEqual(
    decryptSector(raw.subarray(HEADER, HEADER + 4096), 7n),
    Buffer.alloc(4096),
    'encrypted zeros',
  );
  assert.ok(!raw.subarray(HEADER, HEADER + 4096).every((b) => b === 0));
});

test('the fused path agrees with the two-step path, also past the end of a short file', async (t) => {
  const engine = nativeEngine(t);
  if (engine === null) return;
  const path = tempImage(t, patternBytes(3 * 4096, 5)); // the device claims 5 sectors; 2 lie past the end
  const fused = new EncryptedDevice(
    await FileDevice.open(path, { size: 5 * 4096, readOnly: true }),
    cipher(engine),
  );
  // The same engine cipher without its fileIo: the device takes the two-step path.
  const c = cipher(engine);
  const twoStep: SectorCipher = {
    encrypt: (d, u, o) => c.encrypt(d, u, o),
    decrypt: (d, u, o) => c.decrypt(d, u, o),
    dispose: () => c.dispose(),
  };
  const unfused = new EncryptedDevice(
    await FileDevice.open(path, { size: 5 * 4096, readOnly: true }),
    twoStep,
  );
  assert.equal(unfused.fusedIo, false);
  assert.deepEqual(await fused.read(0, 5 * 4096), await unfused.read(0, 5 * 4096));
  assert.deepEqual(
    (await fused.read(4 * 4096, 4096)).subarray(0, 16),
    decryptSector(Buffer.alloc(4096), 32n).subarray(0, 16),
  );
  await assert.rejects(fused.write(0, Buffer.alloc(4096)), (e: NbdError) => e.code === 'read_only');
  await fused.close();
  await unfused.close();
  await assert.rejects(fused.read(0, 4096), (e: NbdError) => e.code === 'closed');
});

test('a failed system call in a fused job rejects with the errno name, which NBD maps', async (t) => {
  const engine = nativeEngine(t);
  if (engine === null || engine.fileIo === undefined) return;
  const path = tempImage(t, Buffer.alloc(4096));
  const fd = openSync(path, 'r');
  t.after(() => closeSync(fd));
  const key = createXtsKey(SecretBytes.from(Buffer.from(KEY)));
  t.after(() => key.dispose());
  await assert.rejects(
    engine.fileIo.encryptWrite(key, { fd, position: 0 }, Buffer.alloc(4096), {
      sectorSize: 4096,
      firstUnit: 0n,
    }),
    (e: Error & { code?: string; syscall?: string }) => e.code === 'EBADF' && e.syscall === 'pwrite',
  );
});

test('trim punches a hole: the range reads as zeros, the file keeps its size and frees its blocks', async (t) => {
  const punch = nativePunchHole();
  if (punch === null) {
    if (process.env['CI'] === 'true') assert.fail('native/sys.c addon not built');
    t.skip('native/sys.c addon not built');
    return;
  }
  const MiB = 1024 * 1024;
  const path = tempImage(t, Buffer.alloc(0));
  writeFileSync(path, patternBytes(4 * MiB, 3));
  const dev = await FileDevice.open(path);
  await dev.flush();
  const before = statSync(path);
  await dev.trim(MiB, 2 * MiB, { fua: true });
  const after = statSync(path);
  assert.equal(after.size, before.size);
  const got = await dev.read(0, 4 * MiB);
  if (after.blocks === before.blocks) {
    t.diagnostic('this file system does not punch holes (EOPNOTSUPP): trim left the data');
    assert.deepEqual(got, patternBytes(4 * MiB, 3));
  } else {
    assert.ok(after.blocks <= before.blocks - (2 * MiB) / 512, `blocks ${before.blocks} -> ${after.blocks}`);
    assert.ok(got.subarray(MiB, 3 * MiB).every((b) => b === 0));
    assert.deepEqual(got.subarray(0, MiB), patternBytes(4 * MiB, 3).subarray(0, MiB));
    assert.deepEqual(got.subarray(3 * MiB), patternBytes(4 * MiB, 3).subarray(3 * MiB));
  }
  await dev.close();
  assert.throws(
    () => punch(-1, 0, 4096),
    (e: Error & { code?: string }) => e.code === 'ERR_INVALID_ARG_VALUE',
  );
});

test('trim of an encrypted disk reads back as the decryption of zeros (undefined data, never the old plaintext)', async (t) => {
  const engine = nativeEngine(t);
  if (engine === null || nativePunchHole() === null) return;
  const path = tempImage(t, Buffer.alloc(HEADER + 4 * 4096));
  const dev = new EncryptedDevice(await FileDevice.open(path, { offset: HEADER }), cipher(engine));
  const data = patternBytes(4 * 4096, 8);
  await dev.write(0, data);
  await dev.trim(4096, 2 * 4096);
  const got = await dev.read(0, 4 * 4096);
  await dev.close();
  assert.deepEqual(got.subarray(0, 4096), data.subarray(0, 4096));
  assert.deepEqual(got.subarray(3 * 4096), data.subarray(3 * 4096));
  const raw = readFileSync(path).subarray(HEADER + 4096, HEADER + 3 * 4096);
  if (raw.every((b) => b === 0)) {
    assert.deepEqual(got.subarray(4096, 8192), decryptSector(Buffer.alloc(4096), 8n));
    assert.notDeepEqual(got.subarray(4096, 8192), data.subarray(4096, 8192));
  } else {
    t.diagnostic('this file system does not punch holes: the trimmed sectors kept their data');
  }
});

/** Two encrypted devices over fresh images of `sectors` sectors: `a` with inline jobs, `b` with or without. */
async function devicePair(
  t: TestContext,
  engine: XtsEngine,
  sectors: number,
  ivTweak: bigint,
  bInline: boolean,
): Promise<{ pathA: string; pathB: string; a: EncryptedDevice; b: EncryptedDevice }> {
  const pathA = tempImage(t, Buffer.alloc(HEADER + sectors * 4096));
  const pathB = tempImage(t, Buffer.alloc(HEADER + sectors * 4096));
  const a = new EncryptedDevice(await FileDevice.open(pathA, { offset: HEADER }), cipher(engine), { ivTweak, inline: true });
  const b = new EncryptedDevice(await FileDevice.open(pathB, { offset: HEADER }), cipher(engine), { ivTweak, inline: bInline });
  return { pathA, pathB, a, b };
}

test('inline jobs (transmission workers): the same ciphertext on disk, reads served from the page cache', async (t) => {
  const engine = nativeEngine(t);
  if (engine === null) return;
  const io = engine.fileIo;
  assert.ok(io?.readDecryptNow !== undefined && io.encryptWriteNow !== undefined, 'the addon has the inline jobs');
  const sectors = 64;
  const { pathA, pathB, a: inline, b: pooled } = await devicePair(t, engine, sectors, 3n, false);
  const data = patternBytes(sectors * 4096, 5);
  for (const dev of [inline, pooled]) {
    await dev.write(0, data.subarray(0, 32 * 4096));
    await dev.write(32 * 4096, data.subarray(32 * 4096), { fua: true });
    await dev.writeZeroes(4096, 8192);
  }
  const expected = Buffer.from(data);
  expected.fill(0, 4096, 3 * 4096);
  assert.deepEqual(await inline.read(0, data.length), expected);
  const into = Buffer.alloc(8192);
  await inline.readInto(60 * 4096, into);
  assert.deepEqual(into, expected.subarray(60 * 4096, 62 * 4096));
  await inline.close();
  await pooled.close();
  assert.deepEqual(readFileSync(pathA), readFileSync(pathB), 'byte-identical images');
  // Straight through the engine: a range the page cache holds is read and decrypted now.
  const fd = openSync(pathA, 'r');
  t.after(() => closeSync(fd));
  const key = createXtsKey(SecretBytes.from(Buffer.from(KEY)));
  const buf = Buffer.alloc(4096);
  assert.equal(io.readDecryptNow(key, { fd, position: HEADER + 4096 * 10 }, buf, { sectorSize: 4096, firstUnit: 3n + 80n }), true);
  assert.deepEqual(buf, expected.subarray(10 * 4096, 11 * 4096));
  key.dispose();
});

test('writeNow: done at once when inline and nothing overlaps; declined, with nothing done, otherwise', async (t) => {
  const engine = nativeEngine(t);
  if (engine === null) return;
  const { pathA, pathB, a: inline, b: pooled } = await devicePair(t, engine, 16, 3n, false);
  const data = patternBytes(4 * 4096, 9);
  const one = data.subarray(0, 4096);
  assert.equal(pooled.writeNow(0, data), false, 'a device without inline jobs declines');
  await pooled.write(0, data);
  assert.equal(inline.writeNow(0, data, { fua: true }), true);
  assert.throws(() => inline.writeNow(1, data), /not aligned/);

  const dev = new AlignedDevice(inline);
  const table = SharedRangeLock.attach(dev.shareLocks());
  assert.equal(dev.writeNow(4096 + 1, one.subarray(0, 100)), false, 'unaligned: a read-modify-write, which waits');
  const other = table.tryAcquire(8 * 4096, 9 * 4096);
  assert.ok(other >= 0, 'as if another thread held sector 8');
  assert.equal(dev.writeNow(8 * 4096, one), false, 'another thread holds the range');
  const pending = dev.write(8 * 4096, Buffer.alloc(4096, 1)); // holds this thread's lock, waits for the table
  table.releaseEntry(other);
  assert.equal(dev.writeNow(8 * 4096, one), false, 'an earlier write in this thread holds or awaits the range');
  await pending;
  assert.equal(dev.writeNow(8 * 4096, one), true, 'free again');
  const again = table.tryAcquire(8 * 4096, 9 * 4096);
  assert.ok(again >= 0, 'writeNow released its entry in the table');
  table.releaseEntry(again);
  await pooled.write(8 * 4096, one);
  await dev.close();
  await pooled.close();
  assert.deepEqual(readFileSync(pathA), readFileSync(pathB), 'byte-identical images');
});

test("writeNow with consume encrypts the caller's buffer in place: the same ciphertext on disk, and the buffer holds it", async (t) => {
  const engine = nativeEngine(t);
  if (engine === null) return;
  const sectors = 8;
  const { pathA, pathB, a: consumer, b: keeper } = await devicePair(t, engine, sectors, 7n, true);
  const plain = patternBytes(sectors * 4096, 11);
  const given = Buffer.from(plain);
  const kept = Buffer.from(plain);
  assert.equal(consumer.writeNow(0, given, { consume: true, fua: true }), true);
  assert.equal(keeper.writeNow(0, kept), true);
  assert.deepEqual(kept, plain, 'without consume the buffer is untouched');
  assert.notDeepEqual(given, plain, 'with consume the plaintext is gone from the buffer');
  const disk = readFileSync(pathA).subarray(HEADER);
  assert.deepEqual(given, disk, 'the buffer holds exactly the ciphertext written');
  assert.deepEqual(decryptSector(disk.subarray(4096, 8192), 7n + 8n), plain.subarray(4096, 8192));
  assert.deepEqual(await consumer.read(0, plain.length), plain);
  await consumer.close();
  await keeper.close();
  assert.deepEqual(readFileSync(pathA), readFileSync(pathB), 'byte-identical images');
});
