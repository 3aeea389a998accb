/** The task routes of center's API (docs/center.md, "Tasks"): list, show, long-poll wait, cancel. */
import { CenterError } from './errors.js';
import type { RequestContext, Route } from './routes.js';
import { TASK_STATES, type TaskState } from './store/task-store.js';

/** The longest wait a `GET /api/v1/tasks/{id}/wait` holds the request (seconds). */
export const MAX_WAIT_SECONDS = 60;

const id = (c: RequestContext): string => c.params['id']!;

function intParam(c: RequestContext, name: string, dflt: number, min: number, max: number): number {
  const raw = c.query.get(name);
  if (raw === null) return dflt;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new CenterError('invalid_request', `${name} must be a number from ${min} to ${max}`);
  return n;
}

export const TASK_ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: '/api/v1/tasks',
    summary: 'list tasks, newest first (?state=S, ?target=VM, ?limit=N up to 1000)',
    privilege: 'System.Read',
    handler: async (c) => {
      const state = c.query.get('state');
      if (state !== null && !TASK_STATES.includes(state as TaskState))
        throw new CenterError('invalid_request', `state is one of ${TASK_STATES.join(', ')}`);
      const target = c.query.get('target');
      return c.svc.tasks.list({
        ...(state !== null ? { state: state as TaskState } : {}),
        ...(target !== null ? { target } : {}),
        limit: intParam(c, 'limit', 100, 1, 1000),
      });
    },
  },
  {
    method: 'GET',
    path: '/api/v1/tasks/{id}',
    summary: 'show a task',
    privilege: 'System.Read',
    handler: async (c) => c.svc.tasks.get(id(c)),
  },
  {
    method: 'GET',
    path: '/api/v1/tasks/{id}/wait',
    summary: `wait until a task finished or ?timeout=SECONDS passed (at most ${MAX_WAIT_SECONDS}); returns the task`,
    privilege: 'System.Read',
    handler: async (c) => c.svc.tasks.wait(id(c), intParam(c, 'timeout', 30, 0, MAX_WAIT_SECONDS) * 1000),
  },
  {
    method: 'POST',
    path: '/api/v1/tasks/{id}/cancel',
    summary: "cancel a task of a cancellable kind (one's own, or any with Users.Manage)",
    privilege: 'System.Read',
    handler: async (c) => {
      const t = await c.svc.tasks.get(id(c));
      if (t.actor !== c.principal.user)
        await c.svc.auth.authorize(c.principal, 'Users.Manage', 'task.cancel', t.id);
      const r = await c.svc.tasks.cancel(t.id);
      await c.svc.store.appendAudit({
        actor: c.principal.user,
        action: 'task.cancel',
        target: t.id,
        result: 'ok',
      });
      return r;
    },
  },
];
