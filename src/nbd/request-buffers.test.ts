import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RequestBuffers } from './request-buffers.js';

test('a buffer given back is handed out again for the same length only', () => {
  const pool = new RequestBuffers();
  const a = pool.take(262144);
  pool.give(a);
  assert.equal(pool.kept, 1);
  assert.notEqual(pool.take(65536), a);
  assert.equal(pool.take(262144), a);
  assert.equal(pool.kept, 0);
  pool.clear();
});

test('empty, odd-length and oversized buffers and buffers beyond maxKept are not kept', () => {
  const pool = new RequestBuffers({ maxKept: 2 });
  pool.give(Buffer.alloc(0));
  pool.give(Buffer.alloc(1000));
  pool.give(Buffer.alloc(8 * 1024 * 1024));
  assert.equal(pool.kept, 0);
  for (let i = 0; i < 5; i++) pool.give(Buffer.alloc(4096));
  assert.equal(pool.kept, 2);
  pool.clear();
});

test('clear and the idle timer zero every kept buffer and drop it', async () => {
  const pool = new RequestBuffers({ idleMs: 30 });
  const a = pool.take(4096).fill(0xab);
  pool.give(a);
  pool.clear();
  assert.equal(pool.kept, 0);
  assert.ok(a.every((x) => x === 0));
  const b = pool.take(8192).fill(0xcd);
  pool.give(b);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(pool.kept, 0);
  assert.ok(b.every((x) => x === 0));
});
