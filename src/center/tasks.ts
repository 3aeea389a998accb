/**
 * Durable tasks: center's long operations (encrypt, rekey, migrate, reconcile, ...) as rows of its
 * database. A task kind is a `TaskKind`; `TaskService.start` records the task and runs it at once;
 * its progress, result or error are persisted, and on center's next start every `queued` or
 * `running` task runs again. A kind makes itself resumable with `ctx.step(name, fn)`: each
 * finished step's JSON result is saved, and a re-run returns the saved result instead of running
 * the step again. Each start and finish is written to the audit log (who, target, key ID,
 * operation, result). The contract other modules code against is in docs/center.md ("Tasks").
 */
import { randomBytes } from 'node:crypto';
import { toCryptvisorError } from '../common/errors.js';
import type { Logger } from '../common/logging.js';
import { CenterError } from './errors.js';
import type { CenterServices } from './routes.js';
import { TaskStore, type TaskRecord, type TaskState } from './store/task-store.js';
import type { CenterStore } from './store/index.js';

export type { TaskError, TaskRecord, TaskState } from './store/task-store.js';

export interface TaskContext {
  readonly task: TaskRecord;
  readonly svc: CenterServices;
  /** Aborted on cancel (only for cancellable kinds) and on center shutdown. */
  readonly signal: AbortSignal;
  progress(done: number, total: number, message?: string): Promise<void>;
  /**
   * Runs fn once per task: its JSON result is persisted under `name`, and on resume after a
   * center restart the saved result is returned instead of running fn again. Steps must
   * therefore be idempotent or checkpointed.
   */
  step<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

export interface TaskKind {
  readonly kind: string;
  readonly cancellable: boolean;
  run(ctx: TaskContext, params: Record<string, unknown>): Promise<unknown>;
}

const FINISHED: readonly TaskState[] = ['succeeded', 'failed', 'cancelled'];
const PROGRESS_WRITE_MS = 250;

export function isFinished(t: TaskRecord): boolean {
  return FINISHED.includes(t.state);
}

interface Live {
  record: TaskRecord;
  readonly abort: AbortController;
  /** Set when cancel() aborted the task (as opposed to a shutdown). */
  cancelled: boolean;
  lastWrite: number;
  readonly done: Promise<void>;
}

/** The key ID of a task's result or params, for its audit record (VM results carry `keyId`). */
function keyIdOf(...values: unknown[]): string | null {
  for (const v of values) {
    if (v && typeof v === 'object' && typeof (v as { keyId?: unknown }).keyId === 'string')
      return (v as { keyId: string }).keyId;
  }
  return null;
}

export class TaskService {
  readonly #kinds = new Map<string, TaskKind>();
  readonly #live = new Map<string, Live>();
  readonly #store: TaskStore;
  #svc: CenterServices | undefined;
  #closing = false;

  constructor(
    private readonly center: CenterStore,
    private readonly logger: Logger,
  ) {
    this.#store = new TaskStore(center.db);
  }

  register(k: TaskKind): void {
    if (this.#kinds.has(k.kind))
      throw new CenterError('invalid_request', `task kind ${k.kind} is registered twice`);
    this.#kinds.set(k.kind, k);
  }

  kinds(): readonly string[] {
    return [...this.#kinds.keys()];
  }

  /** Binds the services tasks run with, then resumes every queued or running task. */
  async resume(svc: CenterServices): Promise<number> {
    this.#svc = svc;
    const pending = await this.#store.list({ states: ['queued', 'running'], limit: 100_000 });
    for (const t of pending.reverse()) {
      this.logger.info({ task: t.id, kind: t.kind, target: t.target }, 'resuming task');
      this.#launch(t);
    }
    return pending.length;
  }

  async start(
    kind: string,
    params: Record<string, unknown>,
    opts: { actor: string; target: string },
  ): Promise<TaskRecord> {
    if (!this.#kinds.has(kind)) throw new CenterError('invalid_request', `no task kind ${kind}`);
    if (this.#closing) throw new CenterError('center_unreachable', 'center is shutting down');
    if (!this.#svc) throw new CenterError('center_unreachable', 'center is starting; try again');
    const now = new Date().toISOString();
    const rec: TaskRecord = {
      id: `task-${randomBytes(8).toString('hex')}`,
      kind,
      target: opts.target,
      actor: opts.actor,
      state: 'queued',
      progress: { done: 0, total: 0, message: null },
      params,
      result: null,
      error: null,
      createdAt: now,
      updatedAt: now,
    };
    await this.#store.insert(rec);
    await this.center.appendAudit({
      actor: opts.actor,
      action: kind,
      target: opts.target,
      result: 'ok',
      detail: { task: rec.id, phase: 'started', keyId: keyIdOf(params) },
    });
    return this.#launch(rec).record;
  }

  async get(id: string): Promise<TaskRecord> {
    const live = this.#live.get(id);
    if (live) return live.record;
    const t = await this.#store.find(id);
    if (!t) throw new CenterError('task_not_found', `no task ${id}`);
    return t;
  }

  async list(filter: { state?: TaskState; target?: string; limit?: number } = {}): Promise<TaskRecord[]> {
    const rows = await this.#store.list({
      ...(filter.state ? { states: [filter.state] } : {}),
      ...(filter.target !== undefined ? { target: filter.target } : {}),
      limit: filter.limit ?? 1000,
    });
    return rows.map((r) => this.#live.get(r.id)?.record ?? r);
  }

  /** Resolves when the task finished, or after timeoutMs with its current record. */
  async wait(id: string, timeoutMs: number): Promise<TaskRecord> {
    const t = await this.get(id);
    const live = this.#live.get(id);
    if (isFinished(t) || !live) return t;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      live.done,
      new Promise<void>((res) => {
        timer = setTimeout(res, Math.max(0, timeoutMs));
      }),
    ]);
    clearTimeout(timer);
    return this.get(id);
  }

  /** Cancels a queued or running task of a cancellable kind; it ends `cancelled` once its run stops. */
  async cancel(id: string): Promise<TaskRecord> {
    const t = await this.get(id);
    const kind = this.#kinds.get(t.kind);
    if (!kind?.cancellable)
      throw new CenterError(
        'task_not_cancellable',
        `a ${t.kind} task cannot be cancelled safely once started`,
      );
    if (isFinished(t)) throw new CenterError('task_not_cancellable', `task ${id} already ${t.state}`);
    const live = this.#live.get(id);
    if (live) {
      live.cancelled = true;
      live.abort.abort(new CenterError('task_not_cancellable', 'the task was cancelled'));
    }
    return this.get(id);
  }

  /** Stops the running tasks (their signals abort) without finishing them: the next start resumes them. */
  async close(): Promise<void> {
    this.#closing = true;
    for (const l of this.#live.values())
      l.abort.abort(new CenterError('center_unreachable', 'center is shutting down'));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([...this.#live.values()].map((l) => l.done)),
      new Promise<void>((res) => {
        timer = setTimeout(res, 5000);
      }),
    ]);
    clearTimeout(timer);
  }

  #launch(initial: TaskRecord): Live {
    const abort = new AbortController();
    let settle!: () => void;
    const live: Live = {
      record: initial,
      abort,
      cancelled: false,
      lastWrite: 0,
      done: new Promise<void>((res) => (settle = res)),
    };
    this.#live.set(initial.id, live);
    void this.#run(live)
      .catch((err: unknown) =>
        this.logger.error({ task: initial.id, err: (err as Error).message }, 'recording a task failed'),
      )
      .finally(() => {
        this.#live.delete(initial.id);
        settle();
      });
    return live;
  }

  async #run(live: Live): Promise<void> {
    const t = live.record;
    const kind = this.#kinds.get(t.kind);
    const svc = this.#svc;
    if (!kind || !svc) {
      await this.#finish(live, 'failed', null, {
        code: 'not_supported',
        message: `this center cannot run ${t.kind} tasks`,
        kind: 'unsupported',
      });
      return;
    }
    live.record = { ...t, state: 'running', updatedAt: new Date().toISOString() };
    await this.#store.setState(t.id, 'running', null, null);
    const steps = await this.#store.steps(t.id);
    const ctx: TaskContext = {
      get task() {
        return live.record;
      },
      svc,
      signal: live.abort.signal,
      progress: (done, total, message) => this.#progress(live, done, total, message ?? null),
      step: async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
        if (steps.has(name)) return steps.get(name) as T;
        live.abort.signal.throwIfAborted();
        const v = await fn();
        await this.#store.saveStep(t.id, name, v ?? null);
        steps.set(name, v ?? null);
        return v;
      },
    };
    try {
      const result = await kind.run(ctx, t.params);
      if (live.abort.signal.aborted && !live.cancelled) return; // shutdown: resumed on the next start
      await this.#finish(live, 'succeeded', result ?? null, null);
    } catch (err) {
      if (live.cancelled) {
        await this.#finish(live, 'cancelled', null, {
          code: 'cancelled',
          message: 'the task was cancelled',
          kind: 'failed',
        });
        return;
      }
      if (live.abort.signal.aborted) return; // shutdown: stays running, resumed on the next start
      const e = toCryptvisorError(err);
      if (e.code === 'internal')
        this.logger.error({ task: t.id, err: (err as Error).stack ?? String(err) }, 'task failed');
      await this.#finish(live, 'failed', null, { code: e.code, message: e.message, kind: e.kind });
    }
  }

  async #progress(live: Live, done: number, total: number, message: string | null): Promise<void> {
    live.record = {
      ...live.record,
      progress: { done, total, message },
      updatedAt: new Date().toISOString(),
    };
    const now = Date.now();
    if (now - live.lastWrite < PROGRESS_WRITE_MS && done < total) return;
    live.lastWrite = now;
    await this.#store.setProgress(live.record.id, done, total, message);
  }

  async #finish(live: Live, state: TaskState, result: unknown, error: TaskRecord['error']): Promise<void> {
    const t = live.record;
    await this.#store.setState(t.id, state, result, error);
    await this.#store.setProgress(t.id, t.progress.done, t.progress.total, t.progress.message);
    live.record = { ...t, state, result, error, updatedAt: new Date().toISOString() };
    await this.center.appendAudit({
      actor: t.actor,
      action: t.kind,
      target: t.target,
      result: state === 'succeeded' ? 'ok' : 'failed',
      detail: {
        task: t.id,
        phase: state,
        keyId: keyIdOf(result, t.params),
        ...(error ? { error: error.code } : {}),
      },
    });
    this.logger.info({ task: t.id, kind: t.kind, target: t.target, state }, 'task finished');
  }
}
