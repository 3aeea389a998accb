/**
 * RBAC for each of the six roles: one representative call per privilege (a VM, host or provider
 * that does not exist, so an allowed call fails with not-found or succeeds harmlessly), checked
 * against the role table; every denial answers permission_denied and is in the audit log with
 * the privilege and role. center in-process over real TLS.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ROLES, ROUTES, roleHas, type CenterClient, type Privilege, type Role } from '../../src/center/index.js';
import { ADMIN_PASSWORD, startTestCenter, type TestCenter } from './harness.js';

interface Probe {
  readonly privileges: readonly Privilege[];
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: string;
  /** The route template (to skip probes of routes this build does not have). */
  readonly route: string;
  readonly body?: Record<string, unknown>;
}

const PROBES: readonly Probe[] = [
  { privileges: ['System.Read'], method: 'GET', path: '/api/v1/roles', route: '/api/v1/roles' },
  { privileges: ['Audit.Read'], method: 'GET', path: '/api/v1/audit/verify', route: '/api/v1/audit/verify' },
  { privileges: ['Users.Manage'], method: 'GET', path: '/api/v1/users', route: '/api/v1/users' },
  { privileges: ['Tokens.ManageOwn'], method: 'GET', path: '/api/v1/tokens', route: '/api/v1/tokens' },
  {
    privileges: ['Cryptographer.ReadKeyServersInfo'],
    method: 'GET',
    path: '/api/v1/providers',
    route: '/api/v1/providers',
  },
  {
    privileges: ['Cryptographer.ManageKeyServers'],
    method: 'PUT',
    path: '/api/v1/providers/none/default',
    route: '/api/v1/providers/{name}/default',
  },
  {
    privileges: ['Cryptographer.RegisterHost'],
    method: 'POST',
    path: '/api/v1/hosts/none/heartbeat',
    route: '/api/v1/hosts/{name}/heartbeat',
  },
  {
    privileges: ['VirtualMachine.Inventory'],
    method: 'DELETE',
    path: '/api/v1/vms/none',
    route: '/api/v1/vms/{name}',
  },
  {
    privileges: ['VirtualMachine.PowerOps'],
    method: 'POST',
    path: '/api/v1/vms/none/power-off',
    route: '/api/v1/vms/{name}/power-off',
  },
  {
    privileges: ['Cryptographer.RegisterVM'],
    method: 'POST',
    path: '/api/v1/vms/register',
    route: '/api/v1/vms/register',
    body: { path: '/nonexistent/rbac-probe', host: 'none' },
  },
  {
    privileges: ['Cryptographer.Encrypt'],
    method: 'POST',
    path: '/api/v1/vms/none/encrypt',
    route: '/api/v1/vms/{name}/encrypt',
    body: {},
  },
  {
    privileges: ['Cryptographer.Decrypt'],
    method: 'POST',
    path: '/api/v1/vms/none/decrypt',
    route: '/api/v1/vms/{name}/decrypt',
  },
  {
    privileges: ['Cryptographer.Recrypt'],
    method: 'POST',
    path: '/api/v1/vms/none/rekey',
    route: '/api/v1/vms/{name}/rekey',
    body: {},
  },
  {
    privileges: ['Cryptographer.Access'],
    method: 'POST',
    path: '/api/v1/vms/none/unlock',
    route: '/api/v1/vms/{name}/unlock',
  },
  {
    privileges: ['Cryptographer.Migrate'],
    method: 'POST',
    path: '/api/v1/vms/none/migrate',
    route: '/api/v1/vms/{name}/migrate',
    body: { to: 'none' },
  },
  {
    privileges: ['Cryptographer.Clone'],
    method: 'POST',
    path: '/api/v1/vms/none/clone',
    route: '/api/v1/vms/{name}/clone',
    body: { name: 'rbac-clone' },
  },
  {
    privileges: ['Cryptographer.ManageKeys'],
    method: 'POST',
    path: '/api/v1/vms/none/shred',
    route: '/api/v1/vms/{name}/shred',
    body: {},
  },
  {
    privileges: ['Cryptographer.ManageEncryptionPolicy'],
    method: 'POST',
    path: '/api/v1/policies/reconcile',
    route: '/api/v1/policies/reconcile',
  },
];

const present = (p: Probe): boolean => ROUTES.some((r) => r.method === p.method && r.path === p.route);

describe('RBAC: each of the six roles against one call per privilege', () => {
  let c: TestCenter;
  const clients = new Map<Role, { user: string; client: CenterClient }>();
  before(async () => {
    c = await startTestCenter();
    const admin = await c.login('admin', ADMIN_PASSWORD);
    clients.set('Administrator', { user: 'admin', client: admin });
    for (const role of ROLES.filter((r) => r !== 'Administrator')) {
      const user = `u-${role.toLowerCase()}`;
      await admin.call('POST', '/api/v1/users', { name: user, role, password: `${user}-password` });
      clients.set(role, { user, client: await c.login(user, `${user}-password`) });
    }
  });
  after(async () => c?.close());

  it('a call is denied exactly when the role lacks one of its privileges, and each denial is audited', async () => {
    const probes = PROBES.filter(present);
    assert.ok(probes.length >= 15, `${probes.length} probes`);
    const denied: { user: string; role: Role; privilege: Privilege }[] = [];
    for (const role of ROLES) {
      const { user, client } = clients.get(role)!;
      for (const p of probes) {
        const missing = p.privileges.find((x) => !roleHas(role, x));
        const code = await client.call(p.method, p.path, p.body).then(
          () => 'ok',
          (err: unknown) => (err as { code?: string }).code ?? 'error',
        );
        if (missing) {
          assert.equal(code, 'permission_denied', `${role} ${p.method} ${p.path}`);
          denied.push({ user, role, privilege: missing });
        } else {
          assert.notEqual(code, 'permission_denied', `${role} ${p.method} ${p.path}`);
        }
      }
    }
    for (const role of ['NoCryptoAdmin', 'Cryptographer', 'Operator', 'ReadOnly', 'Auditor'] as const)
      assert.ok(denied.some((d) => d.role === role), `${role} is denied something`);
    const audit = await clients
      .get('Administrator')!
      .client.call<{ actor: string; result: string; detail: string }[]>('GET', '/api/v1/audit?limit=10000');
    for (const d of denied) {
      assert.ok(
        audit.some(
          (r) =>
            r.actor === d.user &&
            r.result === 'denied' &&
            (JSON.parse(r.detail) as { privilege?: string; role?: string }).privilege === d.privilege &&
            (JSON.parse(r.detail) as { role?: string }).role === d.role,
        ),
        `denial of ${d.privilege} to ${d.user} audited`,
      );
    }
  });
});
