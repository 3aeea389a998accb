/**
 * `dump decrypt FILE --host H`: the host key comes through center (Cryptographer.ManageKeys,
 * audited) from the host's key provider, our KMS; an Operator is refused with exit 4.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ADMIN_PASSWORD, cv, startTestStack, type TestStack } from './harness.js';
import { enrollHost } from './ops-helpers.js';

let s: TestStack;
before(async () => {
  s = await startTestStack();
  await enrollHost(s);
});
after(async () => s?.close());

test('a sealed dump opens with the host key fetched through center; an Operator is refused', async () => {
  const dump = await s.center.running.hosts.call<{ reason: string }>(
    await s.center.running.store.getHost('host-1'),
    'POST',
    '/api/v1/dump',
  );
  assert.equal(dump.reason, 'on-demand');
  const dir = join(s.dir, 'agent', 'dumps');
  const [name] = await readdir(dir);
  const file = join(dir, name as string);
  assert.equal((await readFile(file)).subarray(0, 8).toString('latin1'), 'CVSEALED');

  const env = s.center.env;
  const login = await cv(['login', s.center.running.url, '--user', 'admin', '--ca', s.center.init.ca, '--password-stdin'], {
    env,
    input: ADMIN_PASSWORD,
  });
  assert.equal(login.status, 0, login.stderr);
  const out = join(s.dir, 'out');
  const dec = await cv(['dump', 'decrypt', file, '--host', 'host-1', '--out', out, '--json'], { env });
  assert.equal(dec.status, 0, dec.stderr);
  const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as { header: { processId: number } };
  assert.equal(report.header.processId, process.pid, 'the report of the agent (here, in this process)');
  const audit = await s.admin.call<{ action: string; target: string; result: string }[]>('GET', '/api/v1/audit');
  assert.ok(audit.some((a) => a.action === 'host.host-key.get' && a.target === 'host-1' && a.result === 'ok'));

  await s.admin.call('POST', '/api/v1/users', { name: 'op', role: 'Operator', password: 'operator-password' });
  const opEnv = { ...env, XDG_CONFIG_HOME: join(s.dir, 'op-config') };
  const opLogin = await cv(['login', s.center.running.url, '--user', 'op', '--ca', s.center.init.ca, '--password-stdin'], {
    env: opEnv,
    input: 'operator-password',
  });
  assert.equal(opLogin.status, 0, opLogin.stderr);
  const denied = await cv(['dump', 'decrypt', file, '--host', 'host-1', '--out', join(s.dir, 'out2'), '--json'], {
    env: opEnv,
  });
  assert.equal(denied.status, 4, denied.stdout + denied.stderr);
  assert.equal((JSON.parse(denied.stdout) as { error: { code: string } }).error.code, 'permission_denied');

  const usage = await cv(['dump', 'decrypt', file, '--host', 'host-1', '--key-file', file, '--out', join(s.dir, 'o3')], { env });
  assert.equal(usage.status, 2);
});
