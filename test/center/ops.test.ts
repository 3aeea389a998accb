/**
 * Operations of center against a real agent and our KMS (in-process, real TLS), through the real
 * CLI where the command exists: metrics, key status, one KMIP Get per distinct key after an agent
 * restart (KEK cache off), alarms raised and cleared by the checks (KMS unreachable, VM locked,
 * key missing, certificate expiring), provider certificate renewal keeping the subject, and the
 * audit log listed and verified (an edited row is named).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { AlarmRecord } from '../../src/center/store/alarm-store.js';
import type { KeyStatus } from '../../src/center/key-status.js';
import { passwordLogin } from '../../src/center/index.js';
import { KekCache } from '../../src/center/kek-cache.js';
import { ADMIN_PASSWORD, cv, startTestStack, type TestStack } from './harness.js';
import { createVm, enrollHost, fetchMetrics, sample } from './ops-helpers.js';

describe('center operations: metrics, key status, alarms, renewal, audit', () => {
  let s: TestStack;
  let vm1Key: string;
  let kmsServers: string;
  const active = async (): Promise<AlarmRecord[]> => s.admin.call<AlarmRecord[]>('GET', '/api/v1/alarms');
  const has = (list: readonly AlarmRecord[], kind: string, target: string): AlarmRecord | undefined =>
    list.find((a) => a.kind === kind && a.target === target);

  before(async () => {
    s = await startTestStack({ heartbeatSeconds: 3600 });
    await enrollHost(s);
    const vm = await createVm(s.admin, 'vm1', 'host-1');
    assert.ok(vm.keyId);
    vm1Key = vm.keyId;
    kmsServers = (await s.admin.call<{ servers: string[] }>('GET', '/api/v1/providers/kms1')).servers.join(',');
    const c = s.center;
    const login = await cv(['login', c.running.url, '--user', 'admin', '--ca', c.init.ca, '--password-stdin'], {
      env: c.env,
      input: ADMIN_PASSWORD,
    });
    assert.equal(login.status, 0, login.stderr);
  });
  after(async () => s?.close());

  it('GET /metrics needs a token and counts requests and KMIP operations by provider and operation', async () => {
    const { running, ca } = s.center;
    assert.equal((await fetchMetrics(running.url, ca)).status, 403);
    const { token } = await passwordLogin(running.url, { ca }, 'admin', ADMIN_PASSWORD);
    const m = await fetchMetrics(running.url, ca, token);
    assert.equal(m.status, 200);
    assert.match(m.text, /# TYPE cryptvisor_center_kmip_operations_total counter/);
    assert.ok(sample(m.text, 'cryptvisor_center_kmip_operations_total{provider="kms1",operation="create",result="ok"}') >= 2);
    assert.ok(sample(m.text, 'cryptvisor_center_kmip_operations_total{provider="kms1",operation="get",result="ok"}') >= 2);
    assert.ok(sample(m.text, 'cryptvisor_center_http_requests_total{method="POST",route="/api/v1/hosts",status="200"}') === 1);
    assert.ok(sample(m.text, 'cryptvisor_center_tasks{kind="vm.create",state="succeeded"}') >= 1, m.text);
    assert.match(m.text, /cryptvisor_center_task_duration_seconds_count\{kind="vm.create"\} \d+/);
    assert.ok(!m.text.includes(token), 'no token in the metrics');
  });

  it('key status: available at kms1, used by vm1 on host-1; the host key; an unknown key exits 3', async () => {
    const env = s.center.env;
    const r = await cv(['key', 'status', vm1Key, '--json'], { env });
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const k = r.json<KeyStatus>();
    assert.equal(k.available, true);
    assert.deepEqual(
      k.providers.map((p) => [p.provider, p.state]),
      [['kms1', 'Active']],
    );
    assert.deepEqual(
      k.vms.map((v) => [v.name, v.host]),
      [['vm1', 'host-1']],
    );
    assert.deepEqual(k.hosts, [{ name: 'host-1', uses: ['VM vm1'] }]);
    const hostKey = (await s.admin.call<{ hostKeyId: string }>('GET', '/api/v1/hosts/host-1')).hostKeyId;
    const hk = (await cv(['key', 'status', hostKey, '--json'], { env })).json<KeyStatus>();
    assert.deepEqual(hk.hosts, [{ name: 'host-1', uses: ['host key'] }]);
    const human = await cv(['key', 'status', vm1Key], { env });
    assert.match(human.stdout, /available/);
    const none = await cv(['key', 'status', 'no-such-key', '--json'], { env });
    assert.equal(none.status, 3, none.stdout);
    assert.equal(none.json<{ error: { code: string } }>().error.code, 'key_not_found');
  });

  it('KMS unreachable and VM locked raise alarms; when the KMS is back the heartbeat unlocks and clears them', async () => {
    await s.admin.call('PUT', '/api/v1/providers/kms1', { servers: '127.0.0.1:1' });
    await s.restartAgent();
    const check = await cv(['alarm', 'check', '--json'], { env: s.center.env });
    assert.equal(check.status, 0, check.stderr + check.stdout);
    const list = (await cv(['alarm', 'list', '--json'], { env: s.center.env })).json<AlarmRecord[]>();
    const kms = has(list, 'kms_unreachable', 'kms1');
    assert.ok(kms, JSON.stringify(list));
    assert.equal(kms.severity, 'critical');
    assert.ok(has(list, 'vm_locked', 'vm1'));
    const failed = await s.admin.call<{ error: string | null }>('POST', '/api/v1/hosts/host-1/heartbeat');
    assert.notEqual(failed.error, null, 'the heartbeat says why it could not unlock');
    await s.admin.call('PUT', '/api/v1/providers/kms1', { servers: kmsServers });
    const hb = await s.admin.call<{ error: string | null }>('POST', '/api/v1/hosts/host-1/heartbeat');
    assert.equal(hb.error, null);
    assert.equal((await s.admin.call<{ cryptoState: string }>('GET', '/api/v1/vms/vm1')).cryptoState, 'unlocked');
    const now = await active();
    assert.equal(has(now, 'kms_unreachable', 'kms1'), undefined, 'cleared after the heartbeat');
    assert.equal(has(now, 'vm_locked', 'vm1'), undefined);
    const all = await s.admin.call<AlarmRecord[]>('GET', '/api/v1/alarms?all=true');
    assert.ok(has(all, 'kms_unreachable', 'kms1')?.clearedAt);
    const audit = await s.admin.call<{ actor: string; action: string; target: string }[]>('GET', '/api/v1/audit');
    const trail = audit.filter((a) => a.actor === 'center').map((a) => `${a.action} ${a.target}`);
    assert.ok(trail.includes('alarm.raise kms_unreachable:kms1'), trail.join('\n'));
    assert.ok(trail.includes('alarm.clear kms_unreachable:kms1'));
    assert.ok(trail.includes('alarm.raise vm_locked:vm1'));
    assert.ok(trail.includes('alarm.clear vm_locked:vm1'));
  });

  it('after an agent restart one heartbeat makes exactly one KMIP Get per distinct key (cache off)', async () => {
    const metrics = s.center.running.metrics;
    await s.restartAgent();
    const before = metrics.kmipCount('get');
    const hb = await s.admin.call<{ keysPushed: number; hostKeyPushed: boolean }>('POST', '/api/v1/hosts/host-1/heartbeat');
    assert.equal(hb.hostKeyPushed, true);
    assert.equal(hb.keysPushed, 1);
    assert.equal(metrics.kmipCount('get') - before, 2, 'the host key and vm1 KEK, once each');
    assert.equal(s.center.running.hosts.kekCache?.size, 0, 'the cache is off by default');
  });

  it('three heartbeats of one host asked at once run one after another: each key is still Got once', async () => {
    const metrics = s.center.running.metrics;
    await s.restartAgent();
    const before = metrics.kmipCount('get');
    const hbs = await Promise.all(
      [0, 1, 2].map(() => s.admin.call<{ keysPushed: number; error: string | null }>('POST', '/api/v1/hosts/host-1/heartbeat')),
    );
    assert.deepEqual(hbs.map((h) => h.error), [null, null, null]);
    assert.equal(hbs.reduce((n, h) => n + h.keysPushed, 0), 1, 'vm1 KEK pushed by one of them');
    assert.equal(metrics.kmipCount('get') - before, 2, 'the host key and vm1 KEK, once each');
  });

  it('with the KEK cache on, a second restart within its TTL is unlocked without any KMIP Get', async () => {
    const { metrics, hosts } = s.center.running;
    hosts.kekCache = new KekCache(60);
    try {
      await s.restartAgent();
      let before = metrics.kmipCount('get');
      await s.admin.call('POST', '/api/v1/hosts/host-1/heartbeat');
      assert.equal(metrics.kmipCount('get') - before, 2, 'the first push fills the cache');
      assert.equal(hosts.kekCache.size, 2);
      await s.restartAgent();
      before = metrics.kmipCount('get');
      const hb = await s.admin.call<{ error: string | null; keysPushed: number }>('POST', '/api/v1/hosts/host-1/heartbeat');
      assert.equal(hb.error, null);
      assert.equal(hb.keysPushed, 1);
      assert.equal(metrics.kmipCount('get') - before, 0, 'served from the cache');
      assert.equal((await s.admin.call<{ cryptoState: string }>('GET', '/api/v1/vms/vm1')).cryptoState, 'unlocked');
    } finally {
      hosts.kekCache?.close();
      hosts.kekCache = new KekCache(0);
    }
  });

  it('provider renew-cert keeps the subject; keys made before stay Gettable; a short certificate raises an alarm', async () => {
    const env = s.center.env;
    const pki = join(s.dir, 'kms', 'pki');
    const short = await cv(['provider', 'renew-cert', 'kms1', '--kms-pki', pki, '--days', '10', '--json'], { env });
    assert.equal(short.status, 0, short.stderr + short.stdout);
    assert.equal(short.json<{ subject: string }>().subject, 'CN=center-client');
    const { client } = await s.center.running.providers.client('kms1');
    const kek = (await client.get(vm1Key)).material;
    assert.equal(kek.length, 32, 'the KEK made before renewal is still Gettable by the renewed identity');
    kek.dispose();
    await s.admin.call('POST', '/api/v1/alarms/check');
    const a = has(await active(), 'certificate_expiring', 'provider-client:kms1');
    assert.ok(a);
    assert.match(a.message, /days left/);
    const renewed = await cv(['provider', 'renew-cert', 'kms1', '--kms-pki', pki, '--json'], { env });
    assert.equal(renewed.status, 0, renewed.stderr);
    await s.admin.call('POST', '/api/v1/alarms/check');
    assert.equal(has(await active(), 'certificate_expiring', 'provider-client:kms1'), undefined);
  });

  it('a key destroyed at the KMS raises key_missing, and key status says Destroyed', async () => {
    const vm2 = await createVm(s.admin, 'vm2', 'host-1');
    const { client } = await s.center.running.providers.client('kms1');
    await client.revoke(vm2.keyId!, 'CessationOfOperation');
    await client.destroy(vm2.keyId!);
    await s.admin.call('POST', '/api/v1/alarms/check');
    const a = has(await active(), 'key_missing', `kms1/${vm2.keyId!}`);
    assert.ok(a);
    assert.equal(a.severity, 'critical');
    const k = await s.admin.call<KeyStatus>('GET', `/api/v1/keys/${vm2.keyId!}/status`);
    assert.equal(k.available, false);
    assert.equal(k.providers[0]?.state, 'Destroyed');
    assert.deepEqual(
      k.vms.map((v) => v.name),
      ['vm2'],
    );
  });

  it('RBAC: a ReadOnly user lists alarms but may not ask key status (denial audited)', async () => {
    await s.admin.call('POST', '/api/v1/users', { name: 'ro', role: 'ReadOnly', password: 'readonly-pass' });
    const ro = await s.center.login('ro', 'readonly-pass');
    await ro.call('GET', '/api/v1/alarms');
    await assert.rejects(ro.call('GET', `/api/v1/keys/${vm1Key}/status`), { code: 'permission_denied' });
    const audit = await s.admin.call<{ actor: string; result: string }[]>('GET', '/api/v1/audit');
    assert.ok(audit.some((r) => r.actor === 'ro' && r.result === 'denied'));
  });

  it('audit list and verify through the CLI; a record edited in the database makes verify fail naming it', async () => {
    const env = s.center.env;
    const list = await cv(['audit', 'list', '--limit', '5', '--json'], { env });
    assert.equal(list.status, 0, list.stderr);
    assert.deepEqual(
      list.json<{ seq: number }[]>().map((r) => r.seq),
      [1, 2, 3, 4, 5],
    );
    const later = (await cv(['audit', 'list', '--after', '3', '--limit', '1', '--json'], { env })).json<{ seq: number }[]>();
    assert.deepEqual(
      later.map((r) => r.seq),
      [4],
    );
    assert.match((await cv(['audit', 'list'], { env })).stdout, /^SEQ\s+AT\s+ACTOR/);
    const ok = await cv(['audit', 'verify', '--json'], { env });
    assert.equal(ok.status, 0, ok.stdout);
    assert.equal(ok.json<{ brokenAt: null }>().brokenAt, null);
    const db = new Database(join(s.center.dir, 'center', 'center.db'));
    try {
      assert.equal(db.prepare("UPDATE audit SET actor = 'mallory' WHERE seq = 3").run().changes, 1);
    } finally {
      db.close();
    }
    const bad = await cv(['audit', 'verify', '--json'], { env });
    assert.equal(bad.status, 1, bad.stdout);
    const e = bad.json<{ error: { code: string; message: string } }>().error;
    assert.equal(e.code, 'audit_broken');
    assert.match(e.message, /record 3\b/);
    const human = await cv(['audit', 'verify'], { env });
    assert.equal(human.status, 1);
    assert.match(human.stderr, /record 3\b/);
  });
});
