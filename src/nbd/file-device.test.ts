import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { FileDevice } from './file-device.js';
import type { NbdError } from './errors.js';
import { patternBytes, tempImage } from './device-test-support.js';

test('a file range reads and writes only inside its range', async (t) => {
  const path = tempImage(t, patternBytes(3 * 4096, 1));
  const dev = await FileDevice.open(path, { offset: 4096, size: 4096 });
  assert.equal(dev.size, 4096);
  assert.deepEqual(await dev.read(0, 4096), patternBytes(3 * 4096, 1).subarray(4096, 8192));
  await dev.write(10, Buffer.from('hello'), { fua: true });
  await dev.writeZeroes(100, 50);
  await dev.close();
  const after = readFileSync(path);
  const before = patternBytes(3 * 4096, 1);
  assert.deepEqual(after.subarray(0, 4096), before.subarray(0, 4096));
  assert.deepEqual(after.subarray(8192), before.subarray(8192));
  assert.equal(after.toString('latin1', 4106, 4111), 'hello');
  assert.ok(after.subarray(4196, 4246).every((b) => b === 0));
});

test('out-of-range, read-only and closed requests fail with their codes', async (t) => {
  const path = tempImage(t, Buffer.alloc(8192));
  const ro = await FileDevice.open(path, { readOnly: true });
  await assert.rejects(ro.read(8000, 500), (e: NbdError) => e.code === 'out_of_range');
  await assert.rejects(ro.write(0, Buffer.alloc(1)), (e: NbdError) => e.code === 'read_only');
  await ro.close();
  await assert.rejects(ro.read(0, 1), (e: NbdError) => e.code === 'closed');
});

test('a range past the end of a short file reads as zeros', async (t) => {
  const path = tempImage(t, Buffer.from('abc'));
  const dev = await FileDevice.open(path, { size: 4096 });
  const b = await dev.read(0, 4096);
  assert.equal(b.toString('latin1', 0, 3), 'abc');
  assert.ok(b.subarray(3).every((x) => x === 0));
  await dev.close();
});
