/**
 * The SQL of center's durable tasks (tables `tasks` and `task_steps`, migration in schema.ts).
 * A task row holds its state, progress, JSON params, result and error; each finished step of a
 * task (TaskContext.step) is one `task_steps` row, so a resumed task skips what it already did.
 * Params and results are JSON without secrets (key references only).
 */
import { CenterError } from '../errors.js';
import type { Row, SqlDriver } from './driver.js';

export type TaskState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export const TASK_STATES: readonly TaskState[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];

export interface TaskError {
  readonly code: string;
  readonly message: string;
  /** The error kind (src/common/errors.ts), which decides the CLI exit code of a failed task. */
  readonly kind: string;
}

export interface TaskRecord {
  readonly id: string;
  readonly kind: string;
  readonly target: string;
  readonly actor: string;
  readonly state: TaskState;
  readonly progress: { readonly done: number; readonly total: number; readonly message: string | null };
  readonly params: Record<string, unknown>;
  readonly result: unknown;
  readonly error: TaskError | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

function parse(row: Row, col: string): unknown {
  const v = row[col];
  if (v === null || v === undefined) return null;
  try {
    return JSON.parse(String(v));
  } catch (err) {
    throw new CenterError('store_invalid', `center's database has a malformed task ${col}`, { cause: err });
  }
}

function toTask(row: Row): TaskRecord {
  const state = String(row['state']) as TaskState;
  if (!TASK_STATES.includes(state))
    throw new CenterError('store_invalid', "center's database names an unknown task state");
  const params = parse(row, 'params');
  return {
    id: String(row['id']),
    kind: String(row['kind']),
    target: String(row['target']),
    actor: String(row['actor']),
    state,
    progress: {
      done: Number(row['progress_done']),
      total: Number(row['progress_total']),
      message: typeof row['progress_message'] === 'string' ? row['progress_message'] : null,
    },
    params: params !== null && typeof params === 'object' ? (params as Record<string, unknown>) : {},
    result: parse(row, 'result'),
    error: parse(row, 'error') as TaskError | null,
    createdAt: String(row['created_at']),
    updatedAt: String(row['updated_at']),
  };
}

export class TaskStore {
  constructor(private readonly db: SqlDriver) {}

  async insert(t: TaskRecord): Promise<void> {
    await this.db.run(
      `INSERT INTO tasks (id, kind, target, actor, state, progress_done, progress_total, progress_message,
         params, result, error, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        t.id,
        t.kind,
        t.target,
        t.actor,
        t.state,
        t.progress.done,
        t.progress.total,
        t.progress.message,
        JSON.stringify(t.params),
        t.result === null || t.result === undefined ? null : JSON.stringify(t.result),
        t.error ? JSON.stringify(t.error) : null,
        t.createdAt,
        t.updatedAt,
      ],
    );
  }

  async find(id: string): Promise<TaskRecord | undefined> {
    const row = (await this.db.all('SELECT * FROM tasks WHERE id = ?', [id]))[0];
    return row ? toTask(row) : undefined;
  }

  async list(
    filter: { states?: readonly TaskState[]; target?: string; limit?: number } = {},
  ): Promise<TaskRecord[]> {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (filter.states && filter.states.length > 0) {
      where.push(`state IN (${filter.states.map(() => '?').join(', ')})`);
      args.push(...filter.states);
    }
    if (filter.target !== undefined) {
      where.push('target = ?');
      args.push(filter.target);
    }
    args.push(filter.limit ?? 1000);
    const rows = await this.db.all(
      `SELECT * FROM tasks ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id LIMIT ?`,
      args,
    );
    return rows.map(toTask);
  }

  async setState(id: string, state: TaskState, result: unknown, error: TaskError | null): Promise<void> {
    await this.db.run('UPDATE tasks SET state = ?, result = ?, error = ?, updated_at = ? WHERE id = ?', [
      state,
      result === null || result === undefined ? null : JSON.stringify(result),
      error ? JSON.stringify(error) : null,
      new Date().toISOString(),
      id,
    ]);
  }

  async setProgress(id: string, done: number, total: number, message: string | null): Promise<void> {
    await this.db.run(
      'UPDATE tasks SET progress_done = ?, progress_total = ?, progress_message = ?, updated_at = ? WHERE id = ?',
      [done, total, message, new Date().toISOString(), id],
    );
  }

  /** The saved results of a task's finished steps, by step name. */
  async steps(id: string): Promise<Map<string, unknown>> {
    const out = new Map<string, unknown>();
    for (const row of await this.db.all('SELECT name, result FROM task_steps WHERE task_id = ?', [id])) {
      out.set(String(row['name']), parse(row, 'result'));
    }
    return out;
  }

  async saveStep(id: string, name: string, result: unknown): Promise<void> {
    await this.db.run('INSERT INTO task_steps (task_id, name, result, created_at) VALUES (?, ?, ?, ?)', [
      id,
      name,
      result === undefined ? null : JSON.stringify(result),
      new Date().toISOString(),
    ]);
  }
}
