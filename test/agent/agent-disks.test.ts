/**
 * Disk add and grow over the real agent API (mutual TLS), with a KEK from the project's KMS and a
 * real NBD client (nbdcopy): the data written before survives growing, the new disk is LUKS2
 * with its own DEK wrapped by the VM's KEK, and wrong requests get specific errors.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initAgent, startAgent, type RunningAgent, type VmView } from '../../src/agent/index.js';
import { describeImage } from '../../src/disk/index.js';
import { agentCall, centerTls, type ClientTls } from '../support/agent-api.js';
import { runAsync } from '../support/cli.js';
import { startTestKms, type TestKms } from '../support/kms.js';
import { needPeers } from '../support/peers.js';

const MiB = 1024 * 1024;
let kms: TestKms;
let root: string;
let center: ClientTls;
let agent: RunningAgent;
let kekId: string;

const call = (method: string, path: string, body?: unknown) =>
  agentCall(agent.port, center, method, path, body);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

before(async () => {
  kms = await startTestKms();
  root = await mkdtemp(join(tmpdir(), 'cv-disks-'));
  const dir = join(root, 'host');
  const init = await initAgent(dir, join(root, 'ds'));
  center = await centerTls(root, dir);

  agent = await startAgent({ dataDir: dir });
  assert.equal((await call('POST', '/api/v1/enroll', { token: init.enrollmentToken })).status, 200);
  const { keyId, key } = await kms.newKek();
  kekId = keyId;
  assert.equal(
    (await call('PUT', `/api/v1/keys/local/${keyId}`, { key: key.use((b) => b.toString('base64')) })).status,
    200,
  );
  key.dispose();
});

after(async () => {
  await agent?.close();
  await kms?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

test('add a disk and grow one: data kept, new disk encrypted under the VM KEK, served over NBD', async (t) => {
  if (!needPeers(t, 'nbdcopy')) return;
  const created = await call('POST', '/api/v1/vms', {
    name: 'd1',
    disks: [4 * MiB],
    encryption: { keyProviderId: 'local', keyId: kekId },
  });
  assert.equal(created.status, 200, JSON.stringify(created.json));
  let on = (await call('POST', '/api/v1/vms/d1/power-on')).json as VmView;
  const data = randomBytes(4 * MiB);
  assert.equal((await runAsync('nbdcopy', ['-', on.disks[0]?.nbdUri as string], data)).status, 0);

  // Both need the VM off.
  assert.equal(
    (await call('POST', '/api/v1/vms/d1/disks', { sizeBytes: MiB })).json.error.code,
    'vm_power_state',
  );
  assert.equal(
    (await call('POST', '/api/v1/vms/d1/disks/disk-0/grow', { sizeBytes: 8 * MiB })).json.error.code,
    'vm_power_state',
  );
  assert.equal((await call('POST', '/api/v1/vms/d1/power-off')).status, 200);

  const added = await call('POST', '/api/v1/vms/d1/disks', { sizeBytes: 2 * MiB });
  assert.equal(added.status, 200, JSON.stringify(added.json));
  const vm = added.json as VmView;
  assert.deepEqual(
    vm.disks.map((d) => [d.id, d.sizeBytes, d.keyId]),
    [
      ['disk-0', 4 * MiB, kekId],
      ['disk-1', 2 * MiB, kekId],
    ],
  );
  const img = await describeImage(vm.disks[1]?.extentPath as string);
  assert.equal(img.sizeBytes, 2 * MiB);
  assert.deepEqual(img.token, { keyProviderId: 'local', keyId: kekId, dekWrapped: true });

  const grown = await call('POST', '/api/v1/vms/d1/disks/disk-0/grow', { sizeBytes: 8 * MiB });
  assert.equal(grown.status, 200, JSON.stringify(grown.json));
  assert.equal((grown.json as VmView).disks[0]?.sizeBytes, 8 * MiB);
  assert.equal((await describeImage(vm.disks[0]?.extentPath as string)).sizeBytes, 8 * MiB);

  on = (await call('POST', '/api/v1/vms/d1/power-on')).json as VmView;
  const read0 = (await runAsync('nbdcopy', [on.disks[0]?.nbdUri as string, '-'])).stdout;
  assert.equal(read0.length, 8 * MiB);
  assert.equal(sha(read0.subarray(0, 4 * MiB)), sha(data));
  const fresh = randomBytes(2 * MiB);
  assert.equal((await runAsync('nbdcopy', ['-', on.disks[1]?.nbdUri as string], fresh)).status, 0);
  assert.equal(sha((await runAsync('nbdcopy', [on.disks[1]?.nbdUri as string, '-'])).stdout), sha(fresh));
  assert.equal((await call('POST', '/api/v1/vms/d1/power-off')).status, 200);
});

test('wrong disk requests get specific errors', async () => {
  const r = await call('POST', '/api/v1/vms', { name: 'd2', disks: [MiB] });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  const cases: [string, unknown, number, string][] = [
    ['/api/v1/vms/d2/disks/disk-0/grow', { sizeBytes: 4096 }, 400, 'invalid_request'], // shrink
    ['/api/v1/vms/d2/disks/disk-0/grow', { sizeBytes: MiB + 1 }, 400, 'invalid_request'],
    ['/api/v1/vms/d2/disks/disk-9/grow', { sizeBytes: 2 * MiB }, 400, 'invalid_request'],
    ['/api/v1/vms/d2/disks', { sizeBytes: 'big' }, 400, 'invalid_request'],
    ['/api/v1/vms/d2/disks', {}, 400, 'invalid_request'],
    ['/api/v1/vms/nope/disks', { sizeBytes: MiB }, 404, 'vm_not_found'],
  ];
  for (const [path, body, status, code] of cases) {
    const res = await call('POST', path, body);
    assert.equal(res.status, status, `${path} ${JSON.stringify(body)}: ${JSON.stringify(res.json)}`);
    assert.equal(res.json.error.code, code);
  }
  // A plain VM grows by extending its raw extent.
  const g = await call('POST', '/api/v1/vms/d2/disks/disk-0/grow', { sizeBytes: 3 * MiB });
  assert.equal((g.json as VmView).disks[0]?.sizeBytes, 3 * MiB);
  const a = await call('POST', '/api/v1/vms/d2/disks', { sizeBytes: MiB });
  assert.equal((a.json as VmView).disks[1]?.keyId, null);
});
