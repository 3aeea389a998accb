/**
 * center's API and CLI over real TLS: login (CA and fingerprint trust), sessions kept 0600, RBAC
 * denials (audited), API tokens, validation errors, the OpenAPI document and the audit chain.
 */
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { CenterClient, ROUTES } from '../../src/center/index.js';
import { ADMIN_PASSWORD, cv, startTestCenter, type TestCenter } from './harness.js';

describe('center API and CLI', () => {
  let c: TestCenter;
  let admin: CenterClient;
  before(async () => {
    c = await startTestCenter();
    admin = await c.login('admin', ADMIN_PASSWORD);
  });
  after(async () => c?.close());

  it('cryptvisor login with --ca keeps a 0600 session that later commands use', async () => {
    const r = await cv(
      ['login', c.running.url, '--user', 'admin', '--ca', c.init.ca, '--password-stdin', '--json'],
      { env: c.env, input: `${ADMIN_PASSWORD}\n` },
    );
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const out = r.json<{ role: string; session: string }>();
    assert.equal(out.role, 'Administrator');
    assert.equal(out.session, join(c.env['XDG_CONFIG_HOME']!, 'cryptvisor', 'session.json'));
    assert.equal((await stat(out.session)).mode & 0o777, 0o600);
    const list = await cv(['user', 'list', '--json'], { env: c.env });
    assert.equal(list.status, 0, list.stderr);
    assert.deepEqual(
      list.json<{ name: string }[]>().map((u) => u.name),
      ['admin'],
    );
  });

  it('login pins a fingerprint; a wrong fingerprint or password is refused', async () => {
    const env = { ...c.env, XDG_CONFIG_HOME: join(c.dir, 'config-fp') };
    const ok = await cv(
      [
        'login',
        c.running.url,
        '--user',
        'admin',
        '--fingerprint',
        c.init.fingerprint,
        '--password-stdin',
        '--json',
      ],
      { env, input: ADMIN_PASSWORD },
    );
    assert.equal(ok.status, 0, ok.stderr + ok.stdout);
    const wrongFp = 'AB:'.repeat(31) + 'AB';
    const bad = await cv(
      ['login', c.running.url, '--user', 'admin', '--fingerprint', wrongFp, '--password-stdin', '--json'],
      { env, input: ADMIN_PASSWORD },
    );
    assert.equal(bad.status, 5);
    assert.equal(bad.json<{ error: { code: string } }>().error.code, 'center_unreachable');
    const badPw = (await c.login('admin', 'wrong-password').then(
      () => assert.fail('a wrong password logged in'),
      (e: unknown) => e,
    )) as { code: string; message: string; exitCode: number };
    assert.equal(badPw.code, 'login_failed');
    assert.equal(badPw.exitCode, 4);
    await assert.rejects(
      c.login('nobody', 'whatever1'),
      { code: 'login_failed', message: badPw.message },
      'one message whether the user or the password was wrong',
    );
  });

  it('RBAC: ReadOnly and Operator are denied user management, and each denial is audited', async () => {
    await admin.call('POST', '/api/v1/users', { name: 'ro', role: 'ReadOnly', password: 'readonly-pass' });
    await admin.call('POST', '/api/v1/users', { name: 'op', role: 'Operator', password: 'operator-pass' });
    for (const [user, password] of [
      ['ro', 'readonly-pass'],
      ['op', 'operator-pass'],
    ] as const) {
      const env = { ...c.env, XDG_CONFIG_HOME: join(c.dir, `config-${user}`) };
      const login = await cv(
        ['login', c.running.url, '--user', user, '--ca', c.init.ca, '--password-stdin'],
        { env, input: password },
      );
      assert.equal(login.status, 0, login.stderr);
      const denied = await cv(['user', 'create', 'mallory', '--role', 'Administrator', '--json'], { env });
      assert.equal(denied.status, 4, denied.stdout + denied.stderr);
      assert.equal(denied.json<{ error: { code: string } }>().error.code, 'permission_denied');
      const client = await c.login(user, password);
      await assert.rejects(client.call('GET', '/api/v1/users'), {
        code: 'permission_denied',
        message: /lacks the privilege Users\.Manage/,
      });
    }
    const ro = await c.login('ro', 'readonly-pass');
    await assert.rejects(ro.call('GET', '/api/v1/audit'), { code: 'permission_denied' });
    assert.ok(Array.isArray(await ro.call('GET', '/api/v1/roles')), 'ReadOnly may read');
    const audit = await admin.call<{ actor: string; result: string; detail: string }[]>(
      'GET',
      '/api/v1/audit',
    );
    const denials = audit.filter((r) => r.result === 'denied').map((r) => r.actor);
    assert.ok(
      denials.filter((a) => a === 'ro').length >= 3 && denials.filter((a) => a === 'op').length >= 2,
      JSON.stringify(denials),
    );
    assert.equal(
      (await admin.call<{ name: string }[]>('GET', '/api/v1/users')).some((u) => u.name === 'mallory'),
      false,
    );
  });

  it('API tokens: created once, used as bearer, revoked', async () => {
    const r = await cv(['token', 'create', 'ci-robot', '--expires-days', '30', '--json'], { env: c.env });
    assert.equal(r.status, 0, r.stderr);
    const t = r.json<{ id: string; token: string }>();
    const robot = new CenterClient(c.running.url, { ca: c.ca }, t.token);
    assert.equal((await robot.call<{ user: string }>('GET', '/api/v1/me')).user, 'admin');
    const listed = await admin.call<{ id: string; token?: string }[]>('GET', '/api/v1/tokens');
    assert.ok(
      listed.some((x) => x.id === t.id && x.token === undefined),
      'secrets are never listed',
    );
    await admin.call('DELETE', `/api/v1/tokens/${t.id}`);
    await assert.rejects(robot.call('GET', '/api/v1/me'), { code: 'not_authenticated' });
  });

  it("a new password ends the user's sessions; the last Administrator stays", async () => {
    await admin.call('POST', '/api/v1/users', {
      name: 'carol',
      role: 'Cryptographer',
      password: 'carol-pass-1',
    });
    const carol = await c.login('carol', 'carol-pass-1');
    await carol.call('PUT', '/api/v1/users/carol/password', { password: 'carol-pass-2' });
    await assert.rejects(carol.call('GET', '/api/v1/me'), { code: 'not_authenticated' });
    await assert.rejects(c.login('carol', 'carol-pass-1'), { code: 'login_failed' });
    const carol2 = await c.login('carol', 'carol-pass-2');
    await assert.rejects(carol2.call('PUT', '/api/v1/users/admin/password', { password: 'x'.repeat(10) }), {
      code: 'permission_denied',
    });
    await assert.rejects(admin.call('PUT', '/api/v1/users/admin/role', { role: 'ReadOnly' }), {
      code: 'last_administrator',
    });
    assert.equal(
      (await admin.call<{ role: string }>('PUT', '/api/v1/users/carol/role', { role: 'Auditor' })).role,
      'Auditor',
    );
  });

  it('bad requests get specific JSON errors with the status of their kind', async () => {
    await assert.rejects(
      admin.call('POST', '/api/v1/users', { name: 'x', role: 'God', password: 'long-enough' }),
      { code: 'invalid_request', message: /"role" must be one of/ },
    );
    await assert.rejects(admin.call('POST', '/api/v1/users', { name: 'x', role: 'ReadOnly' }), {
      code: 'invalid_request',
      message: /"password" is required/,
    });
    await assert.rejects(
      admin.call('POST', '/api/v1/users', { name: '../x', role: 'ReadOnly', password: 'long-enough' }),
      { code: 'invalid_request' },
    );
    await assert.rejects(
      admin.call('POST', '/api/v1/users', {
        name: 'x',
        role: 'ReadOnly',
        password: 'long-enough',
        admin: true,
      }),
      { code: 'invalid_request', message: /unknown field/ },
    );
    await assert.rejects(admin.call('GET', '/api/v1/nothing'), { code: 'route_not_found' });
    await assert.rejects(admin.call('DELETE', '/api/v1/users/nobody'), { code: 'user_not_found' });
    await assert.rejects(new CenterClient(c.running.url, { ca: c.ca }).call('GET', '/api/v1/users'), {
      code: 'not_authenticated',
    });
    await assert.rejects(
      new CenterClient(c.running.url, { ca: c.ca }, 'cvt_forged').call('GET', '/api/v1/me'),
      { code: 'not_authenticated' },
    );
    await assert.rejects(admin.call('POST', '/api/v1/tokens', { label: 'x', expiresInDays: 1.5 }), {
      code: 'invalid_request',
    });
    assert.equal((await admin.call<{ status: string }>('GET', '/api/v1/health')).status, 'ok');
  });

  it('serves an OpenAPI document listing every route with its privilege', async () => {
    const doc = await new CenterClient(c.running.url, { ca: c.ca }).call<{
      openapi: string;
      paths: Record<string, Record<string, { 'x-privilege'?: string }>>;
    }>('GET', '/api/docs');
    assert.equal(doc.openapi, '3.1.0');
    for (const r of ROUTES) assert.ok(doc.paths[r.path]?.[r.method.toLowerCase()], `${r.method} ${r.path}`);
    assert.equal(doc.paths['/api/v1/users']?.['post']?.['x-privilege'], 'Users.Manage');
  });

  it('audit verify holds, and detects an edited record', async () => {
    const ok = await admin.call<{ records: number; brokenAt: number | null }>('GET', '/api/v1/audit/verify');
    assert.equal(ok.brokenAt, null);
    assert.ok(ok.records > 5);
    const db = new Database(join(c.dir, 'center', 'center.db'));
    try {
      db.prepare(
        "UPDATE audit SET result = 'ok' WHERE seq = (SELECT MIN(seq) FROM audit WHERE result = 'denied')",
      ).run();
    } finally {
      db.close();
    }
    const broken = await admin.call<{ brokenAt: number | null }>('GET', '/api/v1/audit/verify');
    assert.notEqual(broken.brokenAt, null);
  });
});
