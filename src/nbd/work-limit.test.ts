import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkLimit } from './work-limit.js';
import type { NbdError } from './errors.js';

test('at most max tasks run at once, the rest start in arrival order, failures free their slot', async () => {
  const limit = new WorkLimit(2);
  let running = 0;
  let peak = 0;
  const started: number[] = [];
  const gates: Array<() => void> = [];
  const tasks = Array.from({ length: 6 }, (_, i) =>
    limit.run(async () => {
      started.push(i);
      running++;
      peak = Math.max(peak, running);
      await new Promise<void>((resolve) => gates.push(resolve));
      running--;
      if (i === 1) throw new Error('task 1 fails');
      return i;
    }),
  );
  const settled = Promise.allSettled(tasks);
  assert.equal(limit.queued, 4, 'four tasks wait for a slot');
  for (let opened = 0; opened < 6; opened++) {
    while (gates.length === 0) await new Promise((r) => setImmediate(r));
    assert.ok(running <= 2);
    (gates.shift() as () => void)();
  }
  const results = await settled;
  assert.equal(limit.queued, 0);
  assert.equal(peak, 2);
  assert.deepEqual(started, [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled'],
  );
  assert.equal(await limit.run(() => Promise.resolve('free again')), 'free again');
  assert.throws(
    () => new WorkLimit(0),
    (e: NbdError) => e.code === 'config_invalid',
  );
});
