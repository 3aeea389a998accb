/**
 * The durable-task contract (src/center/tasks.ts) on center's store, SQLite and PostgreSQL (a
 * schema per run): results and progress persisted, errors with their code and kind, audit of
 * start and finish, steps not repeated when a task is resumed by a new TaskService on the same
 * database after a shutdown, cancel (only cancellable kinds), wait, list filters.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { silentLogger } from '../../src/common/logging.js';
import { CenterError, TaskService, type TaskKind } from '../../src/center/index.js';
import type { CenterServices } from '../../src/center/routes.js';
import { CenterStore } from '../../src/center/store/index.js';
import { needPg } from '../support/peers.js';

type Opener = (
  t: TestContext,
) => Promise<{ open(): Promise<CenterStore>; cleanup(): Promise<void> } | undefined>;

const BACKENDS: Record<string, Opener> = {
  sqlite: async () => {
    const dir = await mkdtemp(join(tmpdir(), 'center-tasks-'));
    return {
      open: () => CenterStore.open({ dataDir: dir }),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  },
  postgres: async (t) => {
    const url = needPg(t);
    if (!url) return undefined;
    const u = new URL(url);
    u.searchParams.set('schema', `center_tasks_${randomBytes(6).toString('hex')}`);
    return {
      open: () => CenterStore.open({ dataDir: '/nonexistent', database: u.toString() }),
      cleanup: async () => undefined,
    };
  },
};

/** A gate a test opens to let a task go on. */
function gate(): { wait: Promise<void>; open(): void } {
  let open!: () => void;
  const wait = new Promise<void>((res) => (open = res));
  return { wait, open };
}

/** Services for tasks whose kinds (below) use only the store. */
const services = (store: CenterStore): CenterServices => ({ store }) as unknown as CenterServices;

for (const [name, opener] of Object.entries(BACKENDS)) {
  describe(`center tasks (${name})`, () => {
    it('runs a task to its result with progress; a failure keeps its code and kind; both audited', async (t) => {
      const b = await opener(t);
      if (!b) return;
      const store = await b.open();
      const tasks = new TaskService(store, silentLogger());
      try {
        tasks.register({
          kind: 'test.ok',
          cancellable: false,
          async run(ctx, p) {
            await ctx.progress(5, 10, 'half');
            await ctx.progress(10, 10);
            return { keyId: 'k-1', echo: p['n'] };
          },
        });
        tasks.register({
          kind: 'test.fail',
          cancellable: false,
          async run() {
            throw new CenterError('vm_not_found', 'no VM x');
          },
        });
        await assert.rejects(
          tasks.start('test.ok', {}, { actor: 'a', target: 'x' }),
          { code: 'center_unreachable' },
          'not before resume() binds the services',
        );
        assert.equal(await tasks.resume(services(store)), 0);
        const started = await tasks.start('test.ok', { n: 3 }, { actor: 'alice', target: 'vm1' });
        assert.match(started.id, /^task-[0-9a-f]{16}$/);
        const done = await tasks.wait(started.id, 10_000);
        assert.equal(done.state, 'succeeded');
        assert.deepEqual(done.result, { keyId: 'k-1', echo: 3 });
        assert.deepEqual(done.progress, { done: 10, total: 10, message: null });
        const failed = await tasks.wait(
          (await tasks.start('test.fail', {}, { actor: 'bob', target: 'x' })).id,
          10_000,
        );
        assert.equal(failed.state, 'failed');
        assert.deepEqual(failed.error, { code: 'vm_not_found', message: 'no VM x', kind: 'not_found' });
        assert.deepEqual(await tasks.get(started.id), done, 'the same record from the database');
        const audit = (await store.listAudit()).map((r) => [
          r.actor,
          r.action,
          r.target,
          r.result,
          JSON.parse(r.detail).phase,
          JSON.parse(r.detail).keyId,
        ]);
        assert.deepEqual(audit, [
          ['alice', 'test.ok', 'vm1', 'ok', 'started', null],
          ['alice', 'test.ok', 'vm1', 'ok', 'succeeded', 'k-1'],
          ['bob', 'test.fail', 'x', 'ok', 'started', null],
          ['bob', 'test.fail', 'x', 'failed', 'failed', null],
        ]);
        assert.deepEqual(
          (await tasks.list({ state: 'failed' })).map((x) => x.kind),
          ['test.fail'],
        );
        assert.deepEqual(
          (await tasks.list({ target: 'vm1' })).map((x) => x.id),
          [started.id],
        );
        await assert.rejects(tasks.get('task-0000000000000000'), { code: 'task_not_found' });
        await assert.rejects(tasks.cancel(started.id), { code: 'task_not_cancellable' });
      } finally {
        await tasks.close();
        await store.close();
        await b.cleanup();
      }
    });

    it('a task stopped by shutdown is resumed by the next TaskService; finished steps are not run again', async (t) => {
      const b = await opener(t);
      if (!b) return;
      const runs = { first: 0, second: 0 };
      const inSecond = gate();
      const release = gate();
      const kind = (): TaskKind => ({
        kind: 'test.steps',
        cancellable: false,
        async run(ctx) {
          const a = await ctx.step('first', async () => {
            runs.first++;
            return { made: 'key-1' };
          });
          const c = await ctx.step('second', async () => {
            runs.second++;
            inSecond.open();
            if (runs.second === 1)
              await new Promise((_res, rej) =>
                ctx.signal.addEventListener('abort', () => rej(ctx.signal.reason as Error)),
              );
            await release.wait;
            return 'second done';
          });
          return { a, c };
        },
      });
      let store = await b.open();
      let tasks = new TaskService(store, silentLogger());
      tasks.register(kind());
      await tasks.resume(services(store));
      const started = await tasks.start('test.steps', {}, { actor: 'alice', target: 'vm1' });
      await inSecond.wait;
      await tasks.close();
      await store.close();
      store = await b.open();
      try {
        tasks = new TaskService(store, silentLogger());
        tasks.register(kind());
        assert.equal((await tasks.get(started.id)).state, 'running', 'left running by the shutdown');
        release.open();
        assert.equal(await tasks.resume(services(store)), 1);
        const done = await tasks.wait(started.id, 10_000);
        assert.equal(done.state, 'succeeded');
        assert.deepEqual(done.result, { a: { made: 'key-1' }, c: 'second done' });
        assert.deepEqual(runs, { first: 1, second: 2 }, 'the recorded step ran once');
      } finally {
        await tasks.close();
        await store.close();
        await b.cleanup();
      }
    });

    it('cancel stops a cancellable task; wait times out with the running record', async (t) => {
      const b = await opener(t);
      if (!b) return;
      const store = await b.open();
      const tasks = new TaskService(store, silentLogger());
      try {
        tasks.register({
          kind: 'test.long',
          cancellable: true,
          async run(ctx) {
            await new Promise((_res, rej) =>
              ctx.signal.addEventListener('abort', () => rej(ctx.signal.reason as Error)),
            );
          },
        });
        await tasks.resume(services(store));
        const started = await tasks.start('test.long', {}, { actor: 'alice', target: 'vm1' });
        assert.equal((await tasks.wait(started.id, 50)).state, 'running');
        await tasks.cancel(started.id);
        const done = await tasks.wait(started.id, 10_000);
        assert.equal(done.state, 'cancelled');
        await assert.rejects(tasks.cancel(started.id), { code: 'task_not_cancellable' });
        const last = (await store.listAudit()).at(-1);
        assert.equal(last?.result, 'failed');
        assert.equal(JSON.parse(last?.detail ?? '{}').phase, 'cancelled');
      } finally {
        await tasks.close();
        await store.close();
        await b.cleanup();
      }
    });
  });
}
