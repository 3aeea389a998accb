import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { AlignedDevice } from './aligned-device.js';
import { EncryptedDevice } from './encrypted-device.js';
import { FileDevice } from './file-device.js';
import { NodeXtsCipher } from './sector-cipher.js';
import type { BlockDevice } from './block-device.js';
import { patternBytes, tempImage } from './device-test-support.js';

const SIZE = 16 * 4096;

async function devices(t: TestContext): Promise<Array<[string, BlockDevice]>> {
  const plain = await FileDevice.open(tempImage(t, Buffer.alloc(SIZE)));
  const enc = new EncryptedDevice(await FileDevice.open(tempImage(t, Buffer.alloc(SIZE))), new NodeXtsCipher(randomBytes(64)));
  t.after(() => Promise.all([plain.close(), enc.close()]));
  return [
    ['file', new AlignedDevice(plain)],
    ['encrypted', new AlignedDevice(enc)],
  ];
}

test('unaligned writes, zeroes and reads match a byte model', async (t) => {
  for (const [name, dev] of await devices(t)) {
    const model = Buffer.alloc(SIZE);
    await dev.writeZeroes(0, SIZE);
    const ops: Array<[number, number]> = [
      [1, 1],
      [4095, 2],
      [100, 9000],
      [4096 * 3 + 17, 4096 * 2],
      [SIZE - 5, 5],
      [0, 4096],
    ];
    let seed = 7;
    for (const [off, len] of ops) {
      const data = patternBytes(len, seed++);
      await dev.write(off, data);
      data.copy(model, off);
    }
    await dev.writeZeroes(4000, 200);
    model.fill(0, 4000, 4200);
    await dev.writeZeroes(5000, 3 * 4096 + 11);
    model.fill(0, 5000, 5000 + 3 * 4096 + 11);
    assert.deepEqual(await dev.read(0, SIZE), model, name);
    assert.deepEqual(await dev.read(4093, 7), model.subarray(4093, 4100), name);
  }
});

test('concurrent read-modify-writes of one sector are serialized (no lost update)', async (t) => {
  for (const [name, dev] of await devices(t)) {
    await dev.writeZeroes(0, SIZE);
    // 64 one-byte writes into the same sector and the next, all in flight at once.
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 64; i++) writes.push(dev.write(4096 + i * 97, Buffer.from([i + 1])));
    await Promise.all(writes);
    const got = await dev.read(4096, 2 * 4096);
    for (let i = 0; i < 64; i++) assert.equal(got[i * 97], i + 1, `${name}: byte ${i}`);
  }
});

test('a write arriving after an overlapping one wins', async (t) => {
  for (const [name, dev] of await devices(t)) {
    const a = dev.write(10, Buffer.alloc(5000, 0xaa));
    const b = dev.write(20, Buffer.alloc(10, 0xbb));
    await Promise.all([a, b]);
    const got = await dev.read(10, 5000);
    assert.equal(got[9], 0xaa, name);
    assert.ok(got.subarray(10, 20).every((x) => x === 0xbb), name);
    assert.equal(got[20], 0xaa, name);
  }
});

test('readInto fills a caller buffer with what read returns, aligned or not', async (t) => {
  for (const [name, dev] of await devices(t)) {
    const data = patternBytes(SIZE, 42);
    await dev.write(0, data);
    for (const [off, len] of [[0, SIZE], [4096, 8192], [4093, 7], [1, 4096]] as const) {
      const buf = Buffer.alloc(len, 0xee);
      await dev.readInto?.(off, buf);
      assert.deepEqual(buf, data.subarray(off, off + len), `${name} ${off}+${len}`);
    }
    await assert.rejects(dev.readInto?.(SIZE - 10, Buffer.alloc(20)) ?? Promise.reject(new Error('no readInto')), /past the end/, name);
  }
});
