import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { SharedRangeLock } from './shared-range-lock.js';

/** Whether `p` has settled after the event loop has had a few turns. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  return done;
}

test('disjoint ranges are granted at once, across views of one table', async () => {
  const a = SharedRangeLock.create();
  const b = SharedRangeLock.attach(a.buffer);
  const x = a.acquire(0, 4096);
  const y = b.acquire(4096, 8192);
  assert.ok(!(x instanceof Promise) && !(y instanceof Promise), 'no waiting for disjoint ranges');
  x.release();
  y.release();
});

test('an overlapping range waits for the holder in the other view, then is granted', async () => {
  const a = SharedRangeLock.create();
  const b = SharedRangeLock.attach(a.buffer);
  const held = await a.acquire(0, 8192);
  const waiting = Promise.resolve(b.acquire(4096, 12288));
  assert.equal(await settled(waiting), false, 'waits while the overlapping range is held');
  held.release();
  held.release(); // a second release is a no-op
  const lease = await waiting;
  assert.ok(!(a.acquire(0, 4096) instanceof Promise), '[0, 4096) no longer overlaps anything held');
  lease.release();
});

test('a full table makes the next request wait for a release', async () => {
  const lock = SharedRangeLock.create();
  const leases = [];
  for (let i = 0; i < 128; i++) {
    const l = lock.acquire(i * 4096, (i + 1) * 4096);
    assert.ok(!(l instanceof Promise));
    leases.push(l);
  }
  const next = Promise.resolve(lock.acquire(1 << 30, (1 << 30) + 4096));
  assert.equal(await settled(next), false);
  leases.pop()?.release();
  (await next).release();
  for (const l of leases) l.release();
});

test('attach refuses anything but a lock table', () => {
  assert.throws(() => SharedRangeLock.attach(new SharedArrayBuffer(16)), /not a shared range lock table/);
  assert.throws(() => SharedRangeLock.attach(new ArrayBuffer(2056)), /not a shared range lock table/);
});

test('a range held in a worker thread blocks an overlapping request here until the worker releases it', async (t) => {
  const lock = SharedRangeLock.create();
  const url = new URL('./shared-range-lock.js', import.meta.url).href;
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     import(workerData.url).then(async ({ SharedRangeLock }) => {
       const lease = await SharedRangeLock.attach(workerData.buffer).acquire(0, 4096);
       parentPort.postMessage('held');
       parentPort.once('message', () => { lease.release(); parentPort.postMessage('released'); });
     });`,
    { eval: true, workerData: { url, buffer: lock.buffer } },
  );
  t.after(() => worker.terminate());
  const next = (): Promise<unknown> => new Promise((resolve) => worker.once('message', resolve));
  assert.equal(await next(), 'held');
  const waiting = Promise.resolve(lock.acquire(2048, 6144));
  assert.equal(await settled(waiting), false, 'the worker holds an overlapping range');
  const disjoint = lock.acquire(8192, 12288);
  assert.ok(!(disjoint instanceof Promise), 'a disjoint range does not wait');
  disjoint.release();
  worker.postMessage('release');
  assert.equal(await next(), 'released');
  (await waiting).release();
});
