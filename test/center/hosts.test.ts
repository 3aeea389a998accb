/**
 * Hosts: center enrolls a real agent (in-process, over mutual TLS with its certificate pinned),
 * pushes its host key from our KMS, and after an agent restart the heartbeat pushes it again.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { initAgent, startAgent, type AgentInitResult, type RunningAgent } from '../../src/agent/index.js';
import type { CenterClient, HeartbeatResult } from '../../src/center/index.js';
import { signCsr } from '../../src/common/pki.js';
import { initKms } from '../../src/kms/init.js';
import { startKms } from '../../src/kms/server.js';
import { ADMIN_PASSWORD, cv, startTestCenter, type TestCenter } from './harness.js';

describe('center hosts with a real agent and our KMS', () => {
  let dir: string;
  let c: TestCenter;
  let admin: CenterClient;
  let kms: { port: number; close(): Promise<void> };
  let agentInit: AgentInitResult;
  let agent: RunningAgent;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cv-center-hosts-'));
    const kmsInit = await initKms({ dataDir: join(dir, 'kms'), sans: ['127.0.0.1'] });
    kms = await startKms({ dataDir: join(dir, 'kms'), host: '127.0.0.1', port: 0, logLevel: 'silent' });
    c = await startTestCenter();
    admin = await c.login('admin', ADMIN_PASSWORD);
    await admin.call('POST', '/api/v1/providers', {
      name: 'kms1',
      servers: `127.0.0.1:${kms.port}`,
      ca: await readFile(kmsInit.ca, 'utf8'),
    });
    const { csr } = await admin.call<{ csr: string }>('POST', '/api/v1/providers/kms1/csr');
    await admin.call('PUT', '/api/v1/providers/kms1/certificate', {
      cert: await signCsr(kmsInit.pkiDir, csr, { kind: 'client' }),
    });
    agentInit = await initAgent(join(dir, 'agent'), join(dir, 'datastore'), { sans: ['127.0.0.1'] });
    agent = await startAgent({ dataDir: join(dir, 'agent'), host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await agent?.close();
    await c?.close();
    await kms?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a wrong fingerprint is refused before enrollment; host add enrolls and the host becomes safe', async () => {
    await assert.rejects(
      admin.call('POST', '/api/v1/hosts', {
        name: 'host-1',
        url: agent.url,
        token: agentInit.enrollmentToken,
        fingerprint: 'AB:'.repeat(31) + 'AB',
      }),
      { code: 'host_unreachable', message: /does not match/ },
    );
    const login = await cv(
      ['login', c.running.url, '--user', 'admin', '--ca', c.init.ca, '--password-stdin'],
      { env: c.env, input: ADMIN_PASSWORD },
    );
    assert.equal(login.status, 0, login.stderr);
    const add = await cv(
      [
        'host',
        'add',
        'host-1',
        agent.url,
        '--token',
        agentInit.enrollmentToken,
        '--fingerprint',
        agentInit.fingerprint,
        '--json',
      ],
      { env: c.env },
    );
    assert.equal(add.status, 0, add.stderr + add.stdout);
    const h = add.json<{ state: string; hostKeyId: string; hostKeyProviderId: string }>();
    assert.equal(h.state, 'safe');
    assert.equal(h.hostKeyProviderId, 'kms1');
    assert.equal(agent.keys.hostKey?.ref.keyId, h.hostKeyId);
    await assert.rejects(
      admin.call('POST', '/api/v1/hosts', {
        name: 'host-1',
        url: agent.url,
        token: 'x',
        fingerprint: agentInit.fingerprint,
      }),
      { code: 'host_exists' },
    );
  });

  it('after an agent restart the heartbeat pushes the same host key again', async () => {
    const before = agent.keys.hostKey?.ref.keyId;
    const port = agent.port;
    await agent.close();
    agent = await startAgent({ dataDir: join(dir, 'agent'), host: '127.0.0.1', port });
    assert.equal(agent.keys.hostKey, undefined, 'a restarted agent holds no keys');
    const hb = await admin.call<HeartbeatResult>('POST', '/api/v1/hosts/host-1/heartbeat');
    assert.equal(hb.hostKeyPushed, true);
    assert.equal(hb.state, 'safe');
    assert.equal((agent.keys.hostKey as { ref: { keyId: string } } | undefined)?.ref.keyId, before);
    const again = await admin.call<HeartbeatResult>('POST', '/api/v1/hosts/host-1/heartbeat');
    assert.equal(again.hostKeyPushed, false, 'no push when the agent has its key');
  });

  it('RBAC: ReadOnly lists hosts but cannot add or remove them', async () => {
    await admin.call('POST', '/api/v1/users', { name: 'ro', role: 'ReadOnly', password: 'readonly-pass' });
    const ro = await c.login('ro', 'readonly-pass');
    assert.equal((await ro.call<{ name: string }[]>('GET', '/api/v1/hosts'))[0]?.name, 'host-1');
    await assert.rejects(ro.call('DELETE', '/api/v1/hosts/host-1'), { code: 'permission_denied' });
    await admin.call('DELETE', '/api/v1/hosts/host-1');
    await assert.rejects(admin.call('GET', '/api/v1/hosts/host-1'), { code: 'host_not_found' });
  });
});

describe('center VMs through a real agent: create encrypted, the §10 shape, restart → locked → one push → unlocked', () => {
  let dir: string;
  let c: TestCenter;
  let admin: CenterClient;
  let kms: { port: number; close(): Promise<void> };
  let agent: RunningAgent;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cv-center-vms-'));
    const kmsInit = await initKms({ dataDir: join(dir, 'kms'), sans: ['127.0.0.1'] });
    kms = await startKms({ dataDir: join(dir, 'kms'), host: '127.0.0.1', port: 0, logLevel: 'silent' });
    c = await startTestCenter();
    admin = await c.login('admin', ADMIN_PASSWORD);
    await admin.call('POST', '/api/v1/providers', {
      name: 'kms1',
      servers: `127.0.0.1:${kms.port}`,
      ca: await readFile(kmsInit.ca, 'utf8'),
    });
    const { csr } = await admin.call<{ csr: string }>('POST', '/api/v1/providers/kms1/csr');
    await admin.call('PUT', '/api/v1/providers/kms1/certificate', {
      cert: await signCsr(kmsInit.pkiDir, csr, { kind: 'client' }),
    });
    const ai = await initAgent(join(dir, 'agent'), join(dir, 'datastore'), { sans: ['127.0.0.1'] });
    agent = await startAgent({ dataDir: join(dir, 'agent'), host: '127.0.0.1', port: 0 });
    await admin.call('POST', '/api/v1/hosts', {
      name: 'host-1',
      url: agent.url,
      token: ai.enrollmentToken,
      fingerprint: ai.fingerprint,
    });
  });
  after(async () => {
    await agent?.close();
    await c?.close();
    await kms?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('creates an encrypted VM under the built-in policy; vm show has exactly the DESIGN §10 fields', async () => {
    const login = await cv(
      ['login', c.running.url, '--user', 'admin', '--ca', c.init.ca, '--password-stdin'],
      { env: c.env, input: ADMIN_PASSWORD },
    );
    assert.equal(login.status, 0, login.stderr);
    const made = await cv(
      [
        'vm',
        'create',
        'vm1',
        '--host',
        'host-1',
        '--disk',
        '1M',
        '--policy',
        'VM Encryption Policy',
        '--json',
      ],
      { env: c.env },
    );
    assert.equal(made.status, 0, made.stderr + made.stdout);
    const shown = await cv(['vm', 'show', 'vm1', '--json'], { env: c.env });
    const vm = shown.json<Record<string, unknown>>();
    assert.deepEqual(Object.keys(vm).sort(), [
      'cryptoState',
      'disks',
      'encrypted',
      'host',
      'keyId',
      'keyProviderId',
      'name',
      'policy',
      'powerState',
      'uuid',
    ]);
    assert.equal(vm['encrypted'], true);
    assert.equal(vm['policy'], 'VM Encryption Policy');
    assert.equal(vm['keyProviderId'], 'kms1');
    assert.equal(vm['host'], 'host-1');
    const disks = vm['disks'] as Record<string, unknown>[];
    assert.equal(disks.length, 1);
    assert.deepEqual(Object.keys(disks[0]!).sort(), ['extentPath', 'id', 'keyId', 'sizeBytes']);
    assert.equal(disks[0]!['sizeBytes'], 1048576);
    const list = await cv(['vm', 'list', '--json'], { env: c.env });
    assert.deepEqual(list.json(), [vm]);
    const plain = await admin.call<{ encrypted: boolean; keyId: string | null; policy: null }>(
      'POST',
      '/api/v1/vms',
      { name: 'vm2', host: 'host-1', disks: '1048576' },
    );
    assert.equal(plain.encrypted, false);
    assert.equal(plain.keyId, null);
  });

  it("after an agent restart the VM is locked; one heartbeat pushes its KEK once and it unlocks; no KEK in center's database", async () => {
    const vm = await admin.call<{ keyId: string }>('GET', '/api/v1/vms/vm1');
    const port = agent.port;
    await agent.close();
    agent = await startAgent({ dataDir: join(dir, 'agent'), host: '127.0.0.1', port });
    assert.equal((await admin.call<{ cryptoState: string }>('GET', '/api/v1/vms/vm1')).cryptoState, 'locked');
    const hb = await admin.call<HeartbeatResult>('POST', '/api/v1/hosts/host-1/heartbeat');
    assert.equal(hb.keysPushed, 1);
    assert.equal(
      (await admin.call<{ cryptoState: string }>('GET', '/api/v1/vms/vm1')).cryptoState,
      'unlocked',
    );
    const { client } = await c.running.providers.client();
    const kek = (await client.get(vm.keyId)).material;
    const hex = kek.use((b) => Buffer.from(b).toString('hex'));
    const b64 = kek.use((b) => Buffer.from(b).toString('base64'));
    kek.dispose();
    const cells = (await c.running.store.dumpText()).join('\n');
    assert.ok(!cells.includes(hex) && !cells.includes(b64), "no KEK bytes in center's database");
  });

  it('RBAC: an Operator may not create an encrypted VM', async () => {
    await admin.call('POST', '/api/v1/users', { name: 'op', role: 'Operator', password: 'operator-pass' });
    const op = await c.login('op', 'operator-pass');
    await assert.rejects(
      op.call('POST', '/api/v1/vms', {
        name: 'vm3',
        host: 'host-1',
        disks: '1048576',
        policy: 'VM Encryption Policy',
      }),
      { code: 'permission_denied' },
    );
  });
});
