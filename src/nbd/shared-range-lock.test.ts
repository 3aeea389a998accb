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

test('three threads contending for four ranges: never two holders of one range, no request lost', async () => {
  const lock = SharedRangeLock.create();
  // [0..3]: completed sections per range; [4..7]: holders inside each range; [8]: violations.
  const state = new Int32Array(new SharedArrayBuffer(9 * 4));
  const url = new URL('./shared-range-lock.js', import.meta.url).href;
  const code = `const { workerData } = require('node:worker_threads');
    import(workerData.url).then(async ({ SharedRangeLock }) => {
      // A pending Atomics.waitAsync does not keep a thread alive; a timer does, until the end.
      const alive = setInterval(() => undefined, 1000);
      const lock = SharedRangeLock.attach(workerData.buffer);
      const a = workerData.state;
      await Promise.all(Array.from({ length: 8 }, async (_, k) => {
        for (let n = 0; n < 200; n++) {
          const r = (n + k) % 4;
          const lease = await lock.acquire(r * 4096, r * 4096 + 4096);
          if (Atomics.add(a, 4 + r, 1) !== 0) Atomics.add(a, 8, 1);
          await new Promise((res) => (n % 3 === 0 ? setImmediate(res) : res()));
          Atomics.sub(a, 4 + r, 1);
          Atomics.add(a, r, 1);
          lease.release();
        }
      }));
      clearInterval(alive);
    });`;
  const workers = [0, 1, 2].map(() => new Worker(code, { eval: true, workerData: { url, buffer: lock.buffer, state } }));
  await Promise.all(workers.map((w) => new Promise((resolve) => w.once('exit', resolve))));
  assert.equal(state[8], 0, 'no range ever had two holders');
  assert.equal(state[0]! + state[1]! + state[2]! + state[3]!, 3 * 8 * 200, 'every request got its lock');
});
