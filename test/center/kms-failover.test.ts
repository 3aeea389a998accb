/**
 * KMS failover: two nodes of our KMS (`cryptvisor kms init --join`, each `kms serve` its own
 * process) sharing one PostgreSQL form center's default provider. With node 1 killed, center's
 * operations go on through node 2: a new encrypted VM, an agent restart unlocked by the heartbeat,
 * key status; the alarm check names the dead node without calling the provider down.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { KeyStatus } from '../../src/center/key-status.js';
import type { AlarmRecord } from '../../src/center/store/alarm-store.js';
import { cliAsync, runAsync } from '../support/cli.js';
import { needPg } from '../support/peers.js';
import { freePort } from '../pykmip/server-harness.js';
import { startTestStack, type TestStack } from './harness.js';
import { CLI } from '../support/cli.js';
import { accepts, addTrustedProvider, createVm, enrollHost } from './ops-helpers.js';

/** `cryptvisor kms serve` on a free port; resolves once it accepts connections. */
async function serveKms(dir: string): Promise<{ proc: ChildProcess; port: number }> {
  const port = await freePort();
  const proc = cliAsync(['kms', 'serve', '--data', dir, '--host', '127.0.0.1', '--port', String(port)]);
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  for (let i = 0; i < 300; i++) {
    if (proc.exitCode !== null) throw new Error(`kms serve exited: ${err}`);
    if (await accepts(port)) return { proc, port };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`kms serve did not listen: ${err}`);
}

async function kmsInit(args: string[]): Promise<void> {
  const r = await runAsync(process.execPath, [CLI, 'kms', 'init', ...args]);
  assert.equal(r.status, 0, r.stderr);
}

describe('KMS failover: two joined nodes on one PostgreSQL', () => {
  let s: TestStack | undefined;
  const nodes: ChildProcess[] = [];
  after(async () => {
    for (const p of nodes) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    await s?.close();
  });

  it('with node 1 dead, VMs are created and unlocked through node 2', async (t) => {
    const url = needPg(t);
    if (!url) return;
    s = await startTestStack({ heartbeatSeconds: 3600 });
    const database = `${url}${url.includes('?') ? '&' : '?'}schema=cv_center_failover_${process.pid}_${Date.now()}`;
    const a = join(s.dir, 'kms-a');
    const b = join(s.dir, 'kms-b');
    await kmsInit(['--data', a, '--database', database, '--san', '127.0.0.1']);
    await kmsInit(['--data', b, '--database', database, '--join', a, '--san', '127.0.0.1']);
    const n1 = await serveKms(a);
    nodes.push(n1.proc);
    const n2 = await serveKms(b);
    nodes.push(n2.proc);

    const admin = s.admin;
    await addTrustedProvider(
      admin,
      'cluster',
      `127.0.0.1:${n1.port},127.0.0.1:${n2.port}`,
      await readFile(join(a, 'pki', 'ca.pem'), 'utf8'),
      join(a, 'pki'),
    );
    await enrollHost(s);
    const before = await createVm(admin, 'vm-a', 'host-1');
    assert.equal(before.keyProviderId, 'cluster');

    n1.proc.kill('SIGKILL');
    await new Promise((r) => n1.proc.once('exit', r));

    const made = await createVm(admin, 'vm-b', 'host-1');
    assert.equal(made.keyProviderId, 'cluster');
    assert.equal(made.cryptoState, 'unlocked');
    await s.restartAgent();
    assert.equal((await admin.call<{ cryptoState: string }>('GET', '/api/v1/vms/vm-a')).cryptoState, 'locked');
    const hb = await admin.call<{ error: string | null; keysPushed: number; hostKeyPushed: boolean }>(
      'POST',
      '/api/v1/hosts/host-1/heartbeat',
    );
    assert.equal(hb.error, null);
    assert.equal(hb.hostKeyPushed, true);
    assert.equal(hb.keysPushed, 2);
    for (const vm of ['vm-a', 'vm-b'])
      assert.equal((await admin.call<{ cryptoState: string }>('GET', `/api/v1/vms/${vm}`)).cryptoState, 'unlocked');

    const st = await admin.call<KeyStatus>('GET', `/api/v1/keys/${before.keyId!}/status`);
    assert.equal(st.available, true);
    assert.equal(st.providers[0]?.state, 'Active');

    await admin.call('POST', '/api/v1/alarms/check');
    const alarm = (await admin.call<AlarmRecord[]>('GET', '/api/v1/alarms')).find(
      (x) => x.kind === 'kms_unreachable' && x.target === 'cluster',
    );
    assert.ok(alarm);
    assert.equal(alarm.severity, 'warning', 'one node answers: not critical');
    assert.match(alarm.message, new RegExp(`127\\.0\\.0\\.1:${n1.port}`));
  });
});
