import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { EncryptedDevice } from './encrypted-device.js';
import { FileDevice } from './file-device.js';
import { NodeXtsCipher } from './sector-cipher.js';
import type { NbdError } from './errors.js';
import { patternBytes, tempImage } from './device-test-support.js';

/** The key halves differ; fixed so the test is deterministic. */
const KEY = Buffer.concat([Buffer.alloc(32, 0x11), Buffer.alloc(32, 0x22)]);

function decryptSector(ct: Buffer, unit: bigint): Buffer {
  const iv = Buffer.alloc(16);
  iv.writeBigUInt64LE(unit, 0);
  const d = createDecipheriv('aes-256-xts', KEY, iv);
  return Buffer.concat([d.update(ct), d.final()]);
}

test('ciphertext on disk is AES-256-XTS plain64 in 512-byte units, with the iv_tweak, at the range offset', async (t) => {
  const header = 8192;
  const path = tempImage(t, Buffer.alloc(header + 4 * 4096));
  const file = await FileDevice.open(path, { offset: header });
  const dev = new EncryptedDevice(file, new NodeXtsCipher(KEY), { ivTweak: 5n });
  const data = patternBytes(2 * 4096, 3);
  await dev.write(4096, data);
  await dev.close();
  const raw = readFileSync(path);
  assert.ok(raw.subarray(0, header).every((b) => b === 0), 'header untouched');
  const ct1 = raw.subarray(header + 4096, header + 8192);
  assert.notDeepEqual(ct1, data.subarray(0, 4096));
  assert.deepEqual(decryptSector(ct1, 5n + 8n), data.subarray(0, 4096));
  assert.deepEqual(decryptSector(raw.subarray(header + 8192, header + 12288), 5n + 16n), data.subarray(4096));
});

test('write zeroes stores encrypted zeros, never zeros on disk', async (t) => {
  const path = tempImage(t, patternBytes(4 * 4096, 9));
  const dev = new EncryptedDevice(await FileDevice.open(path), new NodeXtsCipher(KEY));
  await dev.writeZeroes(0, 4 * 4096, { noHole: false });
  assert.ok((await dev.read(0, 4 * 4096)).every((b) => b === 0));
  await dev.close();
  const raw = readFileSync(path);
  assert.ok(!raw.subarray(0, 4096).every((b) => b === 0));
  assert.deepEqual(decryptSector(raw.subarray(4096, 8192), 8n), Buffer.alloc(4096));
});

test('unaligned requests and bad keys are refused', async (t) => {
  const dev = new EncryptedDevice(await FileDevice.open(tempImage(t, Buffer.alloc(8192))), new NodeXtsCipher(randomBytes(64)));
  await assert.rejects(dev.read(1, 4096), (e: NbdError) => e.code === 'unaligned');
  await assert.rejects(dev.write(0, Buffer.alloc(100)), (e: NbdError) => e.code === 'unaligned');
  await dev.close();
  assert.throws(() => new NodeXtsCipher(Buffer.alloc(64, 1)), (e: NbdError) => e.code === 'config_invalid');
  assert.throws(() => new NodeXtsCipher(Buffer.alloc(32, 1)), (e: NbdError) => e.code === 'config_invalid');
});

test('the cipher prints no key and refuses use after dispose', async () => {
  const c = new NodeXtsCipher(KEY);
  assert.ok(!String(c).includes('11'));
  c.dispose();
  await assert.rejects(async () => c.encrypt(Buffer.alloc(4096), 0n), (e: NbdError) => e.code === 'closed');
});
