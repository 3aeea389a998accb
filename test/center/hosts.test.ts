/**
 * Hosts and VMs: center enrolls a real agent (in-process, over mutual TLS with its certificate
 * pinned), pushes its host key from our KMS, creates an encrypted VM, and after an agent restart
 * the heartbeat pushes the host key and the VM's KEK again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { HeartbeatResult } from '../../src/center/index.js';
import { ADMIN_PASSWORD, cv, startTestStack, type TestStack } from './harness.js';

describe('center hosts with a real agent and our KMS', () => {
  let s: TestStack;
  before(async () => {
    s = await startTestStack({ heartbeatSeconds: 3600 });
  });
  after(async () => s?.close());

  it('a wrong fingerprint is refused before enrollment; host add enrolls and the host becomes safe', async () => {
    const { admin, agent, agentInit, center: c } = s;
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

  it('creates an encrypted VM under the built-in policy; vm show has exactly the DESIGN §10 fields', async () => {
    const c = s.center;
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
    const vm = (await cv(['vm', 'show', 'vm1', '--json'], { env: c.env })).json<Record<string, unknown>>();
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
    const task = await s.admin.call<{ id: string }>('POST', '/api/v1/vms', {
      name: 'vm2',
      host: 'host-1',
      disks: '1048576',
    });
    const plain = (
      await s.admin.call<{ result: { encrypted: boolean; keyId: string | null } }>(
        'GET',
        `/api/v1/tasks/${task.id}/wait?timeout=60`,
      )
    ).result;
    assert.equal(plain.encrypted, false);
    assert.equal(plain.keyId, null);
    const list = await cv(['vm', 'list', '--json'], { env: c.env });
    assert.deepEqual(
      list.json<{ name: string }[]>().map((v) => v.name),
      ['vm1', 'vm2'],
    );
    assert.deepEqual(list.json<unknown[]>()[0], vm);
  });

  it("after an agent restart: VM locked, one heartbeat pushes the host key and the KEK once, VM unlocked; no KEK in center's database", async () => {
    const { admin } = s;
    const hostKey = s.agent.keys.hostKey?.ref.keyId;
    const vm = await admin.call<{ keyId: string }>('GET', '/api/v1/vms/vm1');
    const agent = await s.restartAgent();
    assert.equal(agent.keys.hostKey, undefined, 'a restarted agent holds no keys');
    assert.equal((await admin.call<{ cryptoState: string }>('GET', '/api/v1/vms/vm1')).cryptoState, 'locked');
    const hb = await admin.call<HeartbeatResult>('POST', '/api/v1/hosts/host-1/heartbeat');
    assert.equal(hb.hostKeyPushed, true);
    assert.equal(hb.keysPushed, 1);
    assert.equal(hb.state, 'safe');
    assert.equal((agent.keys.hostKey as { ref: { keyId: string } } | undefined)?.ref.keyId, hostKey);
    assert.equal(
      (await admin.call<{ cryptoState: string }>('GET', '/api/v1/vms/vm1')).cryptoState,
      'unlocked',
    );
    assert.equal(
      (await admin.call<HeartbeatResult>('POST', '/api/v1/hosts/host-1/heartbeat')).hostKeyPushed,
      false,
      'no push when the agent has its key',
    );
    const { client } = await s.center.running.providers.client();
    const kek = (await client.get(vm.keyId)).material;
    const hex = kek.use((b) => Buffer.from(b).toString('hex'));
    const b64 = kek.use((b) => Buffer.from(b).toString('base64'));
    kek.dispose();
    const cells = (await s.center.running.store.dumpText()).join('\n');
    assert.ok(!cells.includes(hex) && !cells.includes(b64), "no KEK bytes in center's database");
  });

  it('RBAC: ReadOnly lists hosts but cannot remove them; an Operator may not create an encrypted VM', async () => {
    const { admin, center: c } = s;
    await admin.call('POST', '/api/v1/users', { name: 'ro', role: 'ReadOnly', password: 'readonly-pass' });
    await admin.call('POST', '/api/v1/users', { name: 'op', role: 'Operator', password: 'operator-pass' });
    const ro = await c.login('ro', 'readonly-pass');
    assert.equal((await ro.call<{ name: string }[]>('GET', '/api/v1/hosts'))[0]?.name, 'host-1');
    await assert.rejects(ro.call('DELETE', '/api/v1/hosts/host-1'), { code: 'permission_denied' });
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
    await admin.call('DELETE', '/api/v1/hosts/host-1');
    await assert.rejects(admin.call('GET', '/api/v1/hosts/host-1'), { code: 'host_not_found' });
  });
});
