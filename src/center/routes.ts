/**
 * The REST API of center under /api/v1: one table of routes, each with its body schema and the
 * privilege it needs. The dispatcher (api.ts) authenticates, validates and authorizes before a
 * handler runs; the OpenAPI document is generated from this table.
 */
import type { AlarmService } from './alarms.js';
import { audited, type Auth, type Principal } from './auth.js';
import { HOST_ROUTES } from './host-routes.js';
import type { HostManager } from './hosts.js';
import type { CenterMetrics } from './metrics.js';
import { OPS_ROUTES } from './ops-routes.js';
import type { ProviderManager } from './providers.js';
import { VM_MOVE_ROUTES } from './vm-move-routes.js';
import { VM_ROUTES } from './vm-routes.js';
import type { VmService } from './vms.js';
import { PROVIDER_ROUTES } from './provider-routes.js';
import type { PolicyService } from './policies.js';
import { POLICY_ROUTES } from './policy-routes.js';
import { TASK_ROUTES } from './task-routes.js';
import type { TaskService } from './tasks.js';
import { CenterError } from './errors.js';
import { hashPassword } from './passwords.js';
import { ROLES, ROLE_PRIVILEGES, type Privilege, type Role } from './privileges.js';
import type { CenterStore, TokenRecord } from './store/index.js';
import { NAME_PATTERN, validateBody, type Body, type BodySchema } from './validate.js';

export interface CenterServices {
  readonly store: CenterStore;
  readonly auth: Auth;
  readonly providers: ProviderManager;
  readonly hosts: HostManager;
  readonly vms: VmService;
  readonly tasks: TaskService;
  readonly policies: PolicyService;
  readonly alarms: AlarmService;
  readonly metrics: CenterMetrics;
  readonly version: string;
}

export interface RequestContext {
  readonly svc: CenterServices;
  /** Set on every route that is not `open`. */
  readonly principal: Principal;
  readonly params: Readonly<Record<string, string>>;
  readonly body: Body;
  readonly query: URLSearchParams;
}

export interface Route {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** OpenAPI path template, e.g. /api/v1/users/{name}. */
  readonly path: string;
  readonly summary: string;
  /** Served without a token. */
  readonly open?: boolean;
  /** Checked (and a denial audited) before the handler runs. */
  readonly privilege?: Privilege;
  readonly body?: BodySchema;
  /** The HTTP status of a success (default 200; 202 for a route that starts a task). */
  readonly status?: number;
  handler(c: RequestContext): Promise<unknown>;
}

const PASSWORD = { type: 'string', required: true, min: 8, max: 1024 } as const;
const USER_SCHEMA: BodySchema = {
  name: { type: 'string', required: true, pattern: NAME_PATTERN, max: 64 },
  role: { type: 'string', required: true, oneOf: ROLES },
  password: PASSWORD,
};

function publicToken(t: TokenRecord): Record<string, unknown> {
  return {
    id: t.id,
    user: t.userName,
    label: t.label,
    kind: t.kind,
    createdAt: t.createdAt,
    expiresAt: t.expiresAt,
  };
}

/** A user may act on their own account; otherwise Users.Manage is needed. */
async function selfOrManage(c: RequestContext, name: string, action: string): Promise<void> {
  if (c.principal.user !== name) await c.svc.auth.authorize(c.principal, 'Users.Manage', action, name);
}

const ACCOUNT_ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: '/api/v1/health',
    summary: 'liveness',
    open: true,
    handler: async (c) => ({ status: 'ok', version: c.svc.version }),
  },
  {
    method: 'POST',
    path: '/api/v1/login',
    summary: 'exchange a user name and password for a session token',
    open: true,
    body: {
      user: { type: 'string', required: true, max: 64 },
      password: { type: 'string', required: true, max: 1024 },
    },
    handler: async (c) => {
      const b = c.body as { user: string; password: string };
      try {
        const r = await c.svc.auth.login(b.user, b.password);
        await c.svc.store.appendAudit({ actor: b.user, action: 'login', target: b.user, result: 'ok' });
        return { user: b.user, role: r.role, token: r.token, tokenId: r.id, expiresAt: r.expiresAt };
      } catch (err) {
        if (err instanceof CenterError && err.code === 'login_failed' && NAME_PATTERN.test(b.user)) {
          await c.svc.store.appendAudit({ actor: b.user, action: 'login', target: b.user, result: 'denied' });
        }
        throw err;
      }
    },
  },
  {
    method: 'POST',
    path: '/api/v1/logout',
    summary: 'revoke the token of this request',
    handler: async (c) => {
      await c.svc.store.removeToken(c.principal.tokenId);
      return { revoked: c.principal.tokenId };
    },
  },
  {
    method: 'GET',
    path: '/api/v1/me',
    summary: 'the caller, its role and privileges',
    handler: async (c) => ({
      user: c.principal.user,
      role: c.principal.role,
      privileges: c.svc.auth.privileges(c.principal.role),
    }),
  },
  {
    method: 'GET',
    path: '/api/v1/roles',
    summary: 'every role and its privileges',
    privilege: 'System.Read',
    handler: async () => ROLES.map((r) => ({ role: r, privileges: ROLE_PRIVILEGES[r] })),
  },
  {
    method: 'GET',
    path: '/api/v1/users',
    summary: 'list users',
    privilege: 'Users.Manage',
    handler: async (c) =>
      (await c.svc.store.listUsers()).map((u) => ({ name: u.name, role: u.role, createdAt: u.createdAt })),
  },
  {
    method: 'POST',
    path: '/api/v1/users',
    summary: 'create a user',
    privilege: 'Users.Manage',
    body: USER_SCHEMA,
    handler: async (c) => {
      const b = c.body as { name: string; role: Role; password: string };
      const u = await audited(c, 'user.create', b.name, async () =>
        c.svc.store.createUser(b.name, b.role, await hashPassword(b.password)),
      );
      return { name: u.name, role: u.role, createdAt: u.createdAt };
    },
  },
  {
    method: 'DELETE',
    path: '/api/v1/users/{name}',
    summary: 'remove a user and their tokens',
    privilege: 'Users.Manage',
    handler: async (c) => {
      const name = c.params['name']!;
      await audited(c, 'user.remove', name, () => c.svc.store.removeUser(name));
      return { removed: name };
    },
  },
  {
    method: 'PUT',
    path: '/api/v1/users/{name}/role',
    summary: "change a user's role",
    privilege: 'Users.Manage',
    body: { role: { type: 'string', required: true, oneOf: ROLES } },
    handler: async (c) => {
      const name = c.params['name']!;
      const u = await audited(c, 'user.role', name, () =>
        c.svc.store.setRole(name, (c.body as { role: Role }).role),
      );
      return { name: u.name, role: u.role };
    },
  },
  {
    method: 'PUT',
    path: '/api/v1/users/{name}/password',
    summary: "set a user's password (one's own, or any with Users.Manage); ends that user's login sessions",
    body: { password: PASSWORD },
    handler: async (c) => {
      const name = c.params['name']!;
      await selfOrManage(c, name, 'user.passwd');
      const hash = await hashPassword((c.body as { password: string }).password);
      await audited(c, 'user.passwd', name, () => c.svc.store.setPasswordHash(name, hash));
      return { name };
    },
  },
  {
    method: 'GET',
    path: '/api/v1/tokens',
    summary: "list tokens: one's own, or everyone's with ?all=true and Users.Manage",
    privilege: 'Tokens.ManageOwn',
    handler: async (c) => {
      if (c.query.get('all') === 'true') {
        await c.svc.auth.authorize(c.principal, 'Users.Manage', 'token.list', '*');
        return (await c.svc.store.listTokens()).map(publicToken);
      }
      return (await c.svc.store.listTokens(c.principal.user)).map(publicToken);
    },
  },
  {
    method: 'POST',
    path: '/api/v1/tokens',
    summary: 'create an API token for the caller (the secret is returned once)',
    privilege: 'Tokens.ManageOwn',
    body: {
      label: { type: 'string', required: true, pattern: NAME_PATTERN, max: 64 },
      expiresInDays: { type: 'number', min: 1, max: 3650 },
    },
    handler: async (c) => {
      const b = c.body as { label: string; expiresInDays?: number };
      const expires = b.expiresInDays ? new Date(Date.now() + b.expiresInDays * 86_400_000) : null;
      const t = await audited(c, 'token.create', b.label, () =>
        c.svc.auth.issueToken(c.principal.user, 'api', b.label, expires),
      );
      return { id: t.id, label: b.label, token: t.token, expiresAt: t.expiresAt };
    },
  },
  {
    method: 'DELETE',
    path: '/api/v1/tokens/{id}',
    summary: "revoke a token (one's own, or any with Users.Manage)",
    privilege: 'Tokens.ManageOwn',
    handler: async (c) => {
      const id = c.params['id']!;
      const t = await c.svc.store.getToken(id);
      await selfOrManage(c, t.userName, 'token.revoke');
      await audited(c, 'token.revoke', id, () => c.svc.store.removeToken(id));
      return { revoked: id };
    },
  },
  {
    method: 'GET',
    path: '/api/v1/audit',
    summary: 'audit records after ?after=SEQ (at most ?limit=N, default 1000)',
    privilege: 'Audit.Read',
    handler: async (c) => {
      const after = Number(c.query.get('after') ?? 0);
      const limit = Number(c.query.get('limit') ?? 1000);
      if (!Number.isInteger(after) || after < 0 || !Number.isInteger(limit) || limit < 1 || limit > 10_000) {
        throw new CenterError('invalid_request', 'after must be a sequence number and limit 1 to 10000');
      }
      return c.svc.store.listAudit({ afterSeq: after, limit });
    },
  },
  {
    method: 'GET',
    path: '/api/v1/audit/verify',
    summary: 'check the audit hash chain',
    privilege: 'Audit.Read',
    handler: async (c) => c.svc.store.verifyAudit(),
  },
];

export const ROUTES: readonly Route[] = [...ACCOUNT_ROUTES, ...PROVIDER_ROUTES, ...HOST_ROUTES, ...VM_ROUTES, ...VM_MOVE_ROUTES, ...TASK_ROUTES, ...OPS_ROUTES, ...POLICY_ROUTES];

/** Validates a body against a route's schema (routes without one take no body). */
export function routeBody(route: Route, body: Body): Body {
  if (!route.body) {
    if (Object.keys(body).length > 0)
      throw new CenterError('invalid_request', 'this call takes no request body');
    return body;
  }
  return validateBody<Body>(body, route.body);
}
