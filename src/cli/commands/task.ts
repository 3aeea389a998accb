/**
 * `cryptvisor task list | task wait ID`, and how every command that starts a center task waits
 * for it (DESIGN.md §10): `runTask` starts the task, then either prints its ID (`--no-wait`; the
 * TaskRecord with `--json`) or waits for it, drawing a progress bar on a terminal, and returns
 * its result or throws its error (so the exit code follows the error's kind: 3, 4, 5 or 1).
 */
import { CryptvisorError, ERROR_KINDS, type ErrorKind } from '../../common/errors.js';
import type { CenterClient, TaskRecord } from '../../center/index.js';
import { flag, pos, str, type CommandContext, type CommandSpec, type OptionSpec } from '../command.js';
import { progressBar } from '../progress.js';
import { DATA_OPTION, remote, table } from './login.js';

export const NO_WAIT: OptionSpec = {
  name: 'no-wait',
  type: 'boolean',
  help: 'print the task ID instead of waiting for the task',
};

const taskPath = (id: string, rest = ''): string => `/api/v1/tasks/${encodeURIComponent(id)}${rest}`;

function taskError(t: TaskRecord): CryptvisorError {
  if (t.state === 'cancelled')
    return new CryptvisorError('cancelled', 'failed', `task ${t.id} was cancelled`);
  const kind = (t.error?.kind ?? 'failed') as ErrorKind;
  return new CryptvisorError(
    t.error?.code ?? 'failed',
    kind in ERROR_KINDS && kind !== 'usage' ? kind : 'failed',
    t.error?.message ?? `task ${t.id} failed`,
  );
}

/** Long-polls a task until it finished (a progress bar on a terminal); throws if it failed. */
export async function waitTask(ctx: CommandContext, client: CenterClient, id: string): Promise<TaskRecord> {
  let t = await client.call<TaskRecord>('GET', taskPath(id));
  const bar = progressBar(ctx.stderr, ctx.isTTY && !ctx.json, `${t.kind} ${t.target}`);
  try {
    while (t.state === 'queued' || t.state === 'running') {
      // Each long poll ends well before the client's 30 s idle timeout (json-request.ts).
      t = await client.call<TaskRecord>('GET', taskPath(id, `/wait?timeout=${ctx.isTTY ? 1 : 20}`));
      if (t.progress.total > 0) bar.update(t.progress.done, t.progress.total);
    }
  } finally {
    bar.done();
  }
  if (t.state !== 'succeeded') throw taskError(t);
  return t;
}

/**
 * Starts a task with one request, then prints its ID (`--no-wait`) or waits and returns the
 * task's result. With `--no-wait --json` the TaskRecord is the command's output.
 */
export async function runTask(
  ctx: CommandContext,
  client: CenterClient,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  const t = await client.call<TaskRecord>(method, path, body);
  if (flag(ctx.args, 'no-wait')) {
    if (ctx.json) return t;
    ctx.stdout.write(`${t.id}\n`);
    return undefined;
  }
  return (await waitTask(ctx, client, t.id)).result;
}

const progressText = (t: TaskRecord): string =>
  t.progress.total > 0 ? `${Math.floor((100 * t.progress.done) / t.progress.total)}%` : '';

export const TASK_COMMANDS: readonly CommandSpec[] = [
  {
    path: ['task', 'list'],
    summary: 'list tasks, newest first',
    options: [
      { name: 'state', type: 'string', help: 'only tasks in this state', valueName: 'S' },
      { name: 'target', type: 'string', help: 'only tasks on this target (a VM name)', valueName: 'VM' },
      DATA_OPTION,
    ],
    async run(ctx) {
      const q = new URLSearchParams();
      const state = str(ctx.args, 'state');
      const target = str(ctx.args, 'target');
      if (state !== undefined) q.set('state', state);
      if (target !== undefined) q.set('target', target);
      const qs = q.toString();
      return (await remote(ctx)).call<TaskRecord[]>('GET', `/api/v1/tasks${qs ? `?${qs}` : ''}`);
    },
    human: (r) =>
      table(
        ['ID', 'KIND', 'TARGET', 'STATE', 'PROGRESS', 'ACTOR', 'CREATED', 'ERROR'],
        (r as TaskRecord[]).map((t) => [
          t.id,
          t.kind,
          t.target,
          t.state,
          progressText(t),
          t.actor,
          t.createdAt,
          t.error?.message ?? '',
        ]),
      ),
  },
  {
    path: ['task', 'wait'],
    summary: 'wait for a task; fails (with its exit code) if the task failed',
    positionals: [{ name: 'id', required: true }],
    options: [DATA_OPTION],
    async run(ctx) {
      return waitTask(ctx, await remote(ctx), pos(ctx.args, 'id') ?? '');
    },
    human: (r) => `${(r as TaskRecord).id} ${(r as TaskRecord).state}`,
  },
];
