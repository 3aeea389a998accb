import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RangeLock } from './range-lock.js';

test('disjoint ranges are granted at once; overlapping ones wait in arrival order', async () => {
  const lock = new RangeLock();
  const order: string[] = [];
  const a = await lock.acquire(0, 4096);
  const b = await lock.acquire(4096, 8192); // disjoint: not blocked by a
  const c = Promise.resolve(lock.acquire(0, 10)).then((l) => {
    order.push('c');
    return l;
  });
  const d = Promise.resolve(lock.acquire(5, 8)).then((l) => {
    order.push('d');
    return l;
  });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, []);
  assert.equal(lock.pending, 4);
  a.release();
  const lc = await c;
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, ['c']); // d overlaps c, so it still waits
  lc.release();
  (await d).release();
  b.release();
  assert.deepEqual(order, ['c', 'd']);
  assert.equal(lock.pending, 0);
});

test('release is idempotent', async () => {
  const lock = new RangeLock();
  const a = await lock.acquire(0, 1);
  a.release();
  a.release();
  assert.equal(lock.pending, 0);
});
