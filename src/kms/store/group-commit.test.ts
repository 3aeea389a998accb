import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { GroupCommit, type OpResult } from './group-commit.js';

test('group commit: concurrent writers share a batch; each gets its own result; a failed commit fails its batch only', async () => {
  const batches: number[][] = [];
  let failNext = false;
  const gc = new GroupCommit<number, number>(async (ops) => {
    batches.push([...ops]);
    await sleep(5); // the "fsync": writers arriving now form the next batch
    if (failNext) {
      failNext = false;
      throw new Error('disk full');
    }
    return ops.map((n): OpResult<number> =>
      n < 0 ? { ok: false, error: new Error(`bad ${n}`) } : { ok: true, value: n * 2 },
    );
  });
  const first = await Promise.all([1, 2, 3].map((n) => gc.submit(n)));
  assert.deepEqual(first, [2, 4, 6]);
  assert.deepEqual(batches, [[1, 2, 3]]);

  const a = gc.submit(10);
  await sleep(1); // batch [10] is committing
  const rest = [gc.submit(11), gc.submit(-1), gc.submit(12)];
  assert.equal(await a, 20);
  const settled = await Promise.allSettled(rest);
  assert.deepEqual(
    settled.map((s) => (s.status === 'fulfilled' ? s.value : String(s.reason))),
    [22, 'Error: bad -1', 24],
  );
  assert.deepEqual(batches.slice(1), [[10], [11, -1, 12]]);

  failNext = true;
  const failed = await Promise.allSettled([gc.submit(1), gc.submit(2)]);
  assert.deepEqual(
    failed.map((s) => s.status),
    ['rejected', 'rejected'],
  );
  assert.equal(await gc.submit(5), 10, 'the next batch works again');
  await gc.drain();
});

test('group commit: batches are capped at maxBatch and drain waits for everything', async () => {
  const sizes: number[] = [];
  const gc = new GroupCommit<number, void>(
    async (ops) => {
      sizes.push(ops.length);
      return ops.map(() => ({ ok: true, value: undefined }));
    },
    { maxBatch: 4, windowMs: 2 },
  );
  const all = Array.from({ length: 10 }, (_, i) => gc.submit(i));
  await gc.drain();
  await Promise.all(all);
  assert.deepEqual(sizes, [4, 4, 2]);
});
