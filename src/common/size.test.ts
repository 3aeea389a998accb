import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSize, formatSize } from './size.js';
import { CommonError } from './errors.js';

test('parseSize reads bytes and binary units as qemu-img does', () => {
  assert.equal(parseSize('4096'), 4096);
  assert.equal(parseSize('64M'), 67108864);
  assert.equal(parseSize('1g'), 1073741824);
  assert.equal(parseSize('2T'), 2 * 1024 ** 4);
});

test('parseSize rejects sizes that are not positive multiples of 4096', () => {
  for (const bad of ['0', '4095', '1K', '12X', '', '-4096', '1.5G', '4096 bytes']) {
    assert.throws(() => parseSize(bad), (e: unknown) => e instanceof CommonError && e.code === 'size_invalid', bad);
  }
});

test('formatSize prints binary units', () => {
  assert.equal(formatSize(67108864), '64 MiB');
  assert.equal(formatSize(1536 * 1024 * 1024), '1.5 GiB');
  assert.equal(formatSize(100), '100 B');
});
