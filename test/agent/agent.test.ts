/**
 * The host agent over its real HTTPS API with mutual TLS, real certificates, KEKs from the
 * project's KMS through the KMIP client, and real NBD clients (nbdcopy): enrollment, encrypted
 * VMs, power-on exports, restart → locked → unlock by pushing the KEK again, shallow rekey,
 * encrypt/decrypt of an existing VM, and a scan of every byte the agent wrote for key material.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initAgent, startAgent, type RunningAgent, type VmView } from '../../src/agent/index.js';
import { initCa, issueCertificate } from '../../src/common/pki.js';
import type { SecretBytes } from '../../src/crypto/index.js';
import { readImageHeader, unwrapDiskKey } from '../../src/disk/index.js';
import { needPeers } from '../support/peers.js';
import { startTestKms, type TestKms } from '../support/kms.js';
import { runAsync } from '../support/cli.js';
import { agentCall, type Json } from '../support/agent-api.js';

const MiB = 1024 * 1024;

interface Tls {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

let kms: TestKms;
let root: string;
let agentDir: string;
let datastore: string;
let token: string;
let center: Tls;
let stranger: Tls;
let agent: RunningAgent;
const keks = new Map<string, SecretBytes>();

function call(method: string, path: string, body?: unknown, tls: Tls = center): Promise<{ status: number; json: Json }> {
  return agentCall(agent.port, tls, method, path, body);
}

async function pushKek(keyId: string): Promise<void> {
  const key = keks.get(keyId) as SecretBytes;
  const r = await call('PUT', `/api/v1/keys/local/${keyId}`, { key: key.use((b) => b.toString('base64')) });
  assert.equal(r.status, 200, JSON.stringify(r.json));
}

async function newKek(): Promise<string> {
  const { keyId, key } = await kms.newKek();
  keks.set(keyId, key);
  return keyId;
}

before(async () => {
  kms = await startTestKms();
  root = await mkdtemp(join(tmpdir(), 'cv-agent-'));
  agentDir = join(root, 'host-1');
  datastore = join(root, 'ds');
  const init = await initAgent(agentDir, datastore);
  token = init.enrollmentToken;
  for (const who of ['center', 'stranger']) {
    const dir = join(root, who);
    await initCa(dir);
    await issueCertificate(dir, who, { kind: 'client' });
  }
  const agentCa = await readFile(join(agentDir, 'pki', 'ca.pem'));
  const load = async (who: string): Promise<Tls> => ({
    ca: agentCa,
    cert: await readFile(join(root, who, `${who}.pem`)),
    key: await readFile(join(root, who, `${who}.key`)),
  });
  center = await load('center');
  stranger = await load('stranger');
  agent = await startAgent({ dataDir: agentDir });
});

after(async () => {
  await agent?.close();
  await kms?.close();
});

test('enrollment pins center: before it the host is incapable; a wrong token and other clients are refused', async () => {
  assert.equal((await call('GET', '/api/v1/health')).json.state, 'incapable');
  assert.equal((await call('GET', '/api/v1/vms')).json.error.code, 'not_enrolled');
  const bad = await call('POST', '/api/v1/enroll', { token: 'not-the-token' });
  assert.equal(bad.status, 403);
  assert.equal(bad.json.error.code, 'enrollment_invalid');
  const ok = await call('POST', '/api/v1/enroll', { token });
  assert.equal(ok.status, 200, JSON.stringify(ok.json));
  assert.equal(ok.json.state, 'prepared');
  const other = await call('GET', '/api/v1/vms', undefined, stranger);
  assert.equal(other.status, 403);
  assert.equal(other.json.error.code, 'not_authorized');
  assert.equal((await call('POST', '/api/v1/enroll', { token }, stranger)).json.error.code, 'already_enrolled');
  assert.equal((await call('GET', '/api/v1/vms')).status, 200);
  assert.equal((await call('POST', '/api/v1/vms', '[not an object')).json.error.code, 'invalid_request');
  assert.equal((await call('GET', '/api/docs')).json.openapi, '3.0.3');
});

test('an encrypted VM: created with a KEK from the KMS, served decrypted over NBD, ciphertext on the datastore', async (t) => {
  if (!needPeers(t, 'nbdcopy')) return;
  const kek = await newKek();
  assert.equal((await call('POST', '/api/v1/vms', { name: 'vm1', disks: [8 * MiB], encryption: { keyProviderId: 'local', keyId: kek } })).json.error.code, 'key_missing');
  await pushKek(kek);
  const created = await call('POST', '/api/v1/vms', { name: 'vm1', disks: [8 * MiB, 4 * MiB], encryption: { keyProviderId: 'local', keyId: kek } });
  assert.equal(created.status, 200, JSON.stringify(created.json));
  const vm = created.json as VmView;
  assert.equal(vm.encrypted, true);
  assert.equal(vm.keyId, kek);
  assert.equal(vm.cryptoState, 'unlocked');
  assert.equal(vm.disks.length, 2);

  const on = (await call('POST', '/api/v1/vms/vm1/power-on')).json as VmView;
  assert.equal(on.powerState, 'poweredOn');
  const uri = on.disks[0]?.nbdUri as string;
  assert.match(uri, /^nbd\+unix:\/\/\/\?socket=/);
  const sock = uri.split('socket=')[1] as string;
  assert.ok(sock.length < 100);
  assert.equal((await stat(sock)).mode & 0o777, 0o600);
  const data = randomBytes(8 * MiB);
  const w = await runAsync('nbdcopy', ['-', uri], data);
  assert.equal(w.status, 0, w.stderr?.toString());
  const r = await runAsync('nbdcopy', [uri, '-']);
  assert.ok(Buffer.compare(r.stdout, data) === 0, 'reads back what was written');
  const extent = await readFile(on.disks[0]?.extentPath as string);
  assert.equal(extent.indexOf(data.subarray(0, 4096)), -1, 'the extent holds ciphertext only');
  assert.equal((await call('POST', '/api/v1/vms/vm1/power-off')).json.powerState, 'poweredOff');
  assert.equal((await call('POST', '/api/v1/vms/vm1/power-on')).json.powerState, 'poweredOn');
});

test('after an agent restart the VM is locked and off; power-on names the key; pushing the KEK unlocks and resumes it', async (t) => {
  if (!needPeers(t, 'nbdcopy')) return;
  const before = (await call('GET', '/api/v1/vms/vm1')).json as VmView;
  const uri0 = before.disks[0]?.nbdUri as string;
  const data = (await runAsync('nbdcopy', [uri0, '-'])).stdout;
  await agent.close();
  agent = await startAgent({ dataDir: agentDir });
  const vm = (await call('GET', '/api/v1/vms/vm1')).json as VmView;
  assert.equal(vm.powerState, 'poweredOff');
  assert.equal(vm.cryptoState, 'locked');
  assert.equal(vm.resumeOnUnlock, true);
  assert.deepEqual((await call('GET', '/api/v1/keys')).json.keys, []);
  assert.deepEqual((await call('GET', '/api/v1/needed-keys')).json.keys, [{ keyProviderId: 'local', keyId: before.keyId }]);
  assert.deepEqual((await call('GET', '/api/v1/missing-keys')).json.keys, [{ keyProviderId: 'local', keyId: before.keyId }]);
  const refused = await call('POST', '/api/v1/vms/vm1/power-on');
  assert.equal(refused.status, 423);
  assert.equal(refused.json.error.code, 'vm_locked');
  assert.ok((refused.json.error.message as string).includes(before.keyId as string), 'the error names the missing key ID');

  // center re-fetches the KEK by its ID from the KMS and pushes it.
  keks.set(before.keyId as string, await kms.getKey(before.keyId as string));
  await pushKek(before.keyId as string);
  await agent.vms.idle();
  const after = (await call('GET', '/api/v1/vms/vm1')).json as VmView;
  assert.equal(after.cryptoState, 'unlocked');
  assert.equal(after.powerState, 'poweredOn', 'the VM that was on resumes');
  assert.deepEqual((await call('GET', '/api/v1/missing-keys')).json.keys, [], 'nothing is missing once the KEK is back');
  const again = (await runAsync('nbdcopy', [after.disks[0]?.nbdUri as string, '-'])).stdout;
  assert.ok(Buffer.compare(again, data) === 0, 'the data is intact');
});

test('shallow rekey re-wraps under a new KEK without rewriting data; deep rekey and decrypt need the VM off', async (t) => {
  if (!needPeers(t, 'nbdcopy')) return;
  const vm = (await call('GET', '/api/v1/vms/vm1')).json as VmView;
  const extentBefore = await readFile(vm.disks[1]?.extentPath as string);
  const kek2 = await newKek();
  await pushKek(kek2);
  const rekeyed = await call('POST', '/api/v1/vms/vm1/rekey', { keyProviderId: 'local', keyId: kek2 });
  assert.equal(rekeyed.status, 200, JSON.stringify(rekeyed.json));
  assert.equal(rekeyed.json.keyId, kek2);
  const extentAfter = await readFile(vm.disks[1]?.extentPath as string);
  assert.ok(Buffer.compare(extentBefore.subarray(16 * MiB), extentAfter.subarray(16 * MiB)) === 0, 'payload untouched');
  const header = await readImageHeader(vm.disks[1]?.extentPath as string);
  unwrapDiskKey(header, keks.get(kek2) as SecretBytes, { vmUuid: vm.uuid, diskId: 'disk-1' }).dispose();
  assert.equal((await call('POST', '/api/v1/vms/vm1/decrypt')).json.error.code, 'vm_power_state');
  await call('DELETE', `/api/v1/keys/local/${vm.keyId}`);
  await call('POST', '/api/v1/vms/vm1/power-off');
  assert.equal((await call('POST', '/api/v1/vms/vm1/power-on')).json.powerState, 'poweredOn', 'opens with the new KEK alone');
  await call('POST', '/api/v1/vms/vm1/power-off');

  const kek3 = await newKek();
  await pushKek(kek3);
  const deep = await call('POST', '/api/v1/vms/vm1/rekey', { keyProviderId: 'local', keyId: kek3, deep: true });
  assert.equal(deep.status, 200, JSON.stringify(deep.json));
  assert.equal(deep.json.keyId, kek3);
  const after = await readFile(vm.disks[1]?.extentPath as string);
  assert.ok(Buffer.compare(extentAfter.subarray(16 * MiB), after.subarray(16 * MiB)) !== 0, 'every sector re-encrypted');
});

test('encrypt an existing plain VM, then decrypt it: the data survives both', async (t) => {
  if (!needPeers(t, 'nbdcopy')) return;
  const created = await call('POST', '/api/v1/vms', { name: 'plain1', disks: [4 * MiB], encryption: null });
  assert.equal(created.status, 200, JSON.stringify(created.json));
  assert.equal(created.json.encrypted, false);
  const on = (await call('POST', '/api/v1/vms/plain1/power-on')).json as VmView;
  const data = randomBytes(4 * MiB);
  assert.equal((await runAsync('nbdcopy', ['-', on.disks[0]?.nbdUri as string], data)).status, 0);
  await call('POST', '/api/v1/vms/plain1/power-off');
  const kek = await newKek();
  await pushKek(kek);
  const enc = await call('POST', '/api/v1/vms/plain1/encrypt', { keyProviderId: 'local', keyId: kek });
  assert.equal(enc.status, 200, JSON.stringify(enc.json));
  assert.equal(enc.json.encrypted, true);
  const raw = await readFile(enc.json.disks[0].extentPath);
  assert.equal(raw.length, 4 * MiB + 16 * MiB);
  assert.equal(raw.indexOf(data.subarray(0, 4096)), -1);
  const on2 = (await call('POST', '/api/v1/vms/plain1/power-on')).json as VmView;
  assert.ok(Buffer.compare((await runAsync('nbdcopy', [on2.disks[0]?.nbdUri as string, '-'])).stdout, data) === 0);
  await call('POST', '/api/v1/vms/plain1/power-off');
  const dec = await call('POST', '/api/v1/vms/plain1/decrypt');
  assert.equal(dec.status, 200, JSON.stringify(dec.json));
  assert.equal(dec.json.encrypted, false);
  assert.ok(Buffer.compare(await readFile(dec.json.disks[0].extentPath), data) === 0, 'the extent is the raw data again');
});

test('nothing secret is written: no KEK or DEK bytes (raw, hex, base64) in the datastore or the agent data directory', async () => {
  await call('PUT', '/api/v1/host-key', { keyProviderId: 'local', keyId: 'host', key: randomBytes(32).toString('base64') });
  assert.equal((await call('GET', '/api/v1/info')).json.state, 'safe');
  const secrets: Buffer[] = [];
  for (const k of keks.values()) secrets.push(k.use((b) => Buffer.from(b)));
  for (const v of (await call('GET', '/api/v1/vms')).json as VmView[]) {
    if (!v.encrypted || !v.keyId) continue;
    for (const d of v.disks) {
      const dek = unwrapDiskKey(await readImageHeader(d.extentPath), keks.get(v.keyId) as SecretBytes, { vmUuid: v.uuid, diskId: d.id });
      secrets.push(dek.use((b) => Buffer.from(b)));
      dek.dispose();
    }
  }
  assert.ok(secrets.length >= 5);
  const needles = secrets.flatMap((s) => [s, Buffer.from(s.toString('hex')), Buffer.from(s.toString('base64')), s.subarray(0, 16)]);
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) files.push(p);
    }
  };
  await walk(datastore);
  await walk(agentDir);
  assert.ok(files.length > 10);
  for (const f of files) {
    const content = await readFile(f);
    for (const n of needles) assert.equal(content.indexOf(n), -1, `${f} holds key material`);
  }
});
