/**
 * Renewing an agent's server certificate (issue 5; docs/center.md "Certificate renewal"): center
 * renews it on the agent, accepts the renewed fingerprint while it is pending, activates it and
 * re-pins. Real processes over real TLS: our KMS and center in-process with an in-process agent
 * (host-1), plus a second agent as its own `cryptvisor agent serve` process (host-2), killed with
 * SIGKILL between the two phases and in the middle of an activation.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { access, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect, type PeerCertificate } from 'node:tls';
import { initAgent, type AgentInitResult } from '../../src/agent/index.js';
import type { HeartbeatResult } from '../../src/center/index.js';
import { PinMismatchError, pinnedConnect } from '../../src/center/pinned-tls.js';
import { cliAsync } from '../support/cli.js';
import { ADMIN_PASSWORD, cv, startTestStack, type TestStack } from './harness.js';
import { createVm, enrollHost } from './ops-helpers.js';

/** The certificate a TLS server on 127.0.0.1:port serves (no client certificate, nothing sent). */
function served(port: number): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
    sock.once('secureConnect', () => {
      const cert = sock.getPeerCertificate();
      sock.destroy();
      resolve(cert);
    });
    sock.once('error', reject);
  });
}

const exists = (file: string): Promise<boolean> => access(file).then(
  () => true,
  () => false,
);

/** Starts `cryptvisor agent serve` on port (0: any); resolves with the process and its port once it listens. */
async function serveAgent(dir: string, port: number): Promise<{ proc: ChildProcess; port: number }> {
  const proc = cliAsync(['agent', 'serve', '--data', dir, '--host', '127.0.0.1', '--port', String(port)]);
  let out = '';
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const got = await new Promise<number>((resolve, reject) => {
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on https:\/\/[^\s]+:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (code) => reject(new Error(`agent exited (${code}): ${err}`)));
  });
  return { proc, port: got };
}

function kill9(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.once('exit', () => resolve());
    proc.kill('SIGKILL');
  });
}

describe('agent certificate renewal', () => {
  let s: TestStack;
  let agent2: { proc: ChildProcess; port: number } | undefined;
  let init2: AgentInitResult;
  before(async () => {
    s = await startTestStack({ heartbeatSeconds: 3600 });
    await enrollHost(s);
    const login = await cv(['login', s.center.running.url, '--user', 'admin', '--ca', s.center.init.ca, '--password-stdin'], {
      env: s.center.env,
      input: ADMIN_PASSWORD,
    });
    assert.equal(login.status, 0, login.stderr);
  });
  after(async () => {
    if (agent2) await kill9(agent2.proc);
    await s?.close();
  });

  it('host renew-cert: the agent serves a new certificate (same subject and SANs, later notAfter), center pins it and still drives the host; the old pin is refused', async () => {
    const { admin } = s;
    const pki = join(s.dir, 'agent', 'pki');
    const oldFp = s.agentInit.fingerprint;
    const before = await served(s.agent.port);
    assert.equal(before.fingerprint256, oldFp);
    await createVm(admin, 'vm1', 'host-1');
    const stale = await s.center.running.store.getHost('host-1');

    const r = await cv(['host', 'renew-cert', 'host-1', '--days', '900', '--json'], { env: s.center.env });
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const out = r.json<{ name: string; fingerprint: string; notAfter: string; url: string }>();
    assert.equal(out.name, 'host-1');
    assert.notEqual(out.fingerprint, oldFp);
    assert.ok(new Date(out.notAfter) > new Date(before.valid_to), `${out.notAfter} after ${before.valid_to}`);

    const now = await served(s.agent.port);
    assert.equal(now.fingerprint256, out.fingerprint);
    assert.deepEqual(now.subject, before.subject);
    assert.equal(now.subjectaltname, before.subjectaltname);
    assert.deepEqual(now.issuer, before.issuer, 'issued by the agent CA');
    assert.equal(new Date(now.valid_to).toISOString(), out.notAfter);

    const h = await s.center.running.store.getHost('host-1');
    assert.equal(h.fingerprint, out.fingerprint);
    assert.equal(h.pendingFingerprint, null);
    assert.equal(await exists(join(pki, 'server.next.pem')), false);
    assert.equal(await exists(join(pki, 'server.next.key')), false);
    assert.equal((await stat(join(pki, 'server.key'))).mode & 0o777, 0o600);

    // center still drives the host: a restarted agent (new certificate from disk) gets its keys again.
    await s.restartAgent();
    assert.equal((await served(s.agent.port)).fingerprint256, out.fingerprint);
    const hb = await admin.call<HeartbeatResult>('POST', '/api/v1/hosts/host-1/heartbeat');
    assert.equal(hb.reachable, true, String(hb.error));
    assert.equal(hb.hostKeyPushed, true);
    assert.equal(hb.keysPushed, 1);
    assert.equal((await admin.call<{ cryptoState: string }>('GET', '/api/v1/vms/vm1')).cryptoState, 'unlocked');

    // Only the new fingerprint is accepted now.
    await assert.rejects(pinnedConnect('127.0.0.1', s.agent.port, oldFp), PinMismatchError);
    await assert.rejects(s.center.running.hosts.call({ url: h.url, fingerprint: oldFp }, 'GET', '/api/v1/info'), {
      code: 'host_unreachable',
      message: /does not match/,
    });
    // A host record read before the renewal (as a long task holds it) is re-read when the pin refuses it.
    assert.equal((await s.center.running.hosts.call<{ state: string }>(stale, 'GET', '/api/v1/info')).state, 'safe');
    const audit = await admin.call<{ action: string; target: string; result: string }[]>('GET', '/api/v1/audit?limit=10000');
    assert.ok(audit.some((a) => a.action === 'host.renew-cert' && a.target === 'host-1' && a.result === 'ok'));
  });

  it('activate with a fingerprint that is not the renewed one is refused and changes nothing', async () => {
    const hosts = s.center.running.hosts;
    const pki = join(s.dir, 'agent', 'pki');
    const h = await s.center.running.store.getHost('host-1');
    const wrong = 'AB:'.repeat(31) + 'AB';
    await assert.rejects(hosts.call(h, 'POST', '/api/v1/certificate/activate', { fingerprint: wrong }), {
      code: 'invalid_request',
      message: /no renewed certificate is waiting/,
    });
    const next = await hosts.call<{ fingerprint: string }>(h, 'POST', '/api/v1/certificate/renew', {});
    const files = await Promise.all(['server.pem', 'server.key', 'server.next.pem', 'server.next.key'].map((f) => readFile(join(pki, f))));
    await assert.rejects(hosts.call(h, 'POST', '/api/v1/certificate/activate', { fingerprint: wrong }), {
      code: 'invalid_request',
      message: new RegExp(`has fingerprint ${next.fingerprint}`),
    });
    await assert.rejects(hosts.call(h, 'POST', '/api/v1/certificate/activate', { fingerprint: 'not hex' }), { code: 'invalid_request' });
    await assert.rejects(hosts.call(h, 'POST', '/api/v1/certificate/renew', { days: 0 }), { code: 'invalid_request' });
    const after = await Promise.all(['server.pem', 'server.key', 'server.next.pem', 'server.next.key'].map((f) => readFile(join(pki, f))));
    assert.deepEqual(after, files, 'no file changed');
    assert.equal((await served(s.agent.port)).fingerprint256, h.fingerprint);
    // center had recorded nothing: a renew-cert makes a fresh pair (replacing the unactivated one).
    const r = await s.admin.call<{ fingerprint: string }>('POST', '/api/v1/hosts/host-1/renew-cert', {});
    assert.notEqual(r.fingerprint, next.fingerprint);
    assert.notEqual(r.fingerprint, h.fingerprint);
    assert.equal((await served(s.agent.port)).fingerprint256, r.fingerprint);
    const bad = await cv(['host', 'renew-cert', 'host-1', '--days', 'ten'], { env: s.center.env });
    assert.equal(bad.status, 2, bad.stderr);
    const missing = await cv(['host', 'renew-cert', 'no-such-host'], { env: s.center.env });
    assert.equal(missing.status, 3, missing.stderr);
  });

  it('an Operator and a Read-only user are refused (403, exit 4), the denials audited, nothing renewed', async () => {
    const { admin, center } = s;
    const fp = (await center.running.store.getHost('host-1')).fingerprint;
    for (const role of ['Operator', 'ReadOnly'] as const) {
      const user = `cert-${role.toLowerCase()}`;
      await admin.call('POST', '/api/v1/users', { name: user, role, password: `${user}-password` });
    }
    const op = await center.login('cert-operator', 'cert-operator-password');
    await assert.rejects(op.call('POST', '/api/v1/hosts/host-1/renew-cert', {}), { code: 'permission_denied' });
    const env = { ...center.env, HOME: join(s.dir, 'ro-home'), XDG_CONFIG_HOME: join(s.dir, 'ro-config') };
    const login = await cv(['login', center.running.url, '--user', 'cert-readonly', '--ca', center.init.ca, '--password-stdin'], {
      env,
      input: 'cert-readonly-password',
    });
    assert.equal(login.status, 0, login.stderr);
    const r = await cv(['host', 'renew-cert', 'host-1'], { env });
    assert.equal(r.status, 4, r.stderr + r.stdout);
    assert.match(r.stderr, /permission_denied|lacks the privilege/);
    const audit = await admin.call<{ actor: string; result: string; detail: string }[]>('GET', '/api/v1/audit?limit=10000');
    for (const actor of ['cert-operator', 'cert-readonly']) {
      assert.ok(
        audit.some(
          (a) =>
            a.actor === actor &&
            a.result === 'denied' &&
            (JSON.parse(a.detail) as { privilege?: string }).privilege === 'Cryptographer.RegisterHost',
        ),
        `denial to ${actor} audited`,
      );
    }
    assert.equal((await center.running.store.getHost('host-1')).fingerprint, fp);
    assert.equal((await served(s.agent.port)).fingerprint256, fp);
  });

  it('crash safety with an agent process: killed between renew and activate it serves the old certificate, a second renew-cert finishes; a cut activation is completed at start', async () => {
    const { admin } = s;
    const store = s.center.running.store;
    const hosts = s.center.running.hosts;
    const dir = join(s.dir, 'agent2');
    const pki = join(dir, 'pki');
    init2 = await initAgent(dir, join(s.dir, 'datastore'), { sans: ['127.0.0.1'] });
    agent2 = await serveAgent(dir, 0);
    const port = agent2.port;
    await admin.call('POST', '/api/v1/hosts', {
      name: 'host-2',
      url: `https://127.0.0.1:${port}`,
      token: init2.enrollmentToken,
      fingerprint: init2.fingerprint,
    });
    const oldFp = init2.fingerprint;

    // Phase one as center runs it (renew on the agent, record pending), then the agent dies.
    let h = await store.getHost('host-2');
    const next = await hosts.call<{ fingerprint: string }>(h, 'POST', '/api/v1/certificate/renew', { days: 900 });
    await store.setHostPendingFingerprint('host-2', next.fingerprint);
    await kill9(agent2.proc);
    agent2 = await serveAgent(dir, port);
    assert.equal((await served(port)).fingerprint256, oldFp, 'the old certificate is still served');
    assert.equal(await exists(join(pki, 'server.next.pem')), true);
    const hb = await admin.call<HeartbeatResult>('POST', '/api/v1/hosts/host-2/heartbeat');
    assert.equal(hb.reachable, true, String(hb.error));
    assert.equal(hb.state, 'safe');
    h = await store.getHost('host-2');
    assert.equal(h.fingerprint, oldFp);
    assert.equal(h.pendingFingerprint, next.fingerprint);

    const done = await cv(['host', 'renew-cert', 'host-2', '--json'], { env: s.center.env });
    assert.equal(done.status, 0, done.stderr + done.stdout);
    assert.equal(done.json<{ fingerprint: string }>().fingerprint, next.fingerprint, 'the pending renewal was completed');
    assert.equal((await served(port)).fingerprint256, next.fingerprint);
    h = await store.getHost('host-2');
    assert.equal(h.fingerprint, next.fingerprint);
    assert.equal(h.pendingFingerprint, null);

    // A cut activation: the key was renamed, then the agent died before the certificate's rename.
    const third = await hosts.call<{ fingerprint: string }>(h, 'POST', '/api/v1/certificate/renew', {});
    await store.setHostPendingFingerprint('host-2', third.fingerprint);
    await kill9(agent2.proc);
    await rename(join(pki, 'server.next.key'), join(pki, 'server.key'));
    agent2 = await serveAgent(dir, port);
    assert.equal((await served(port)).fingerprint256, third.fingerprint, 'the activation was completed at start');
    assert.equal(await exists(join(pki, 'server.next.pem')), false);
    // center sees the agent serve the pending certificate and promotes it.
    const hb2 = await admin.call<HeartbeatResult>('POST', '/api/v1/hosts/host-2/heartbeat');
    assert.equal(hb2.reachable, true, String(hb2.error));
    for (let i = 0; i < 50 && (await store.getHost('host-2')).pendingFingerprint !== null; i++)
      await new Promise((r) => setTimeout(r, 20));
    h = await store.getHost('host-2');
    assert.equal(h.fingerprint, third.fingerprint);
    assert.equal(h.pendingFingerprint, null);
    const hb3 = await admin.call<HeartbeatResult>('POST', '/api/v1/hosts/host-2/heartbeat');
    assert.equal(hb3.reachable, true, String(hb3.error));
    await assert.rejects(pinnedConnect('127.0.0.1', port, next.fingerprint), PinMismatchError);
  });
});
