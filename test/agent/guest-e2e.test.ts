/**
 * End to end with a real guest: Debian's kernel and a busybox initramfs (scripts/build-guest.sh)
 * boot in QEMU (TCG without /dev/kvm) on an encrypted disk the agent serves over NBD as /dev/vda.
 * The guest writes a file; the extent holds only ciphertext; after an agent restart and the KEK
 * pushed again, the guest finds the file. Then suspend, snapshot and resume: the state files are
 * sealed and the guest continues where it was.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initAgent, startAgent, type RunningAgent } from '../../src/agent/index.js';
import { initCa, issueCertificate } from '../../src/common/pki.js';
import { SEALED_MAGIC, type SecretBytes } from '../../src/crypto/index.js';
import { needPeers } from '../support/peers.js';
import { startTestKms, type TestKms } from '../support/kms.js';
import { runAsync } from '../support/cli.js';
import { agentCall, type ClientTls, type Json } from '../support/agent-api.js';

const MiB = 1024 * 1024;
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const GUEST = join(REPO, 'test', '.guest');

let kms: TestKms | undefined;
let root: string;
let agentDir: string;
let agent: RunningAgent | undefined;
let tls: ClientTls;
let kekId: string;
let kek: SecretBytes;
let ready = false;

function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: Json }> {
  return agentCall((agent as RunningAgent).port, tls, method, path, body);
}

async function ok(method: string, path: string, body?: unknown): Promise<Json> {
  const r = await api(method, path, body);
  assert.equal(r.status, 200, `${method} ${path}: ${JSON.stringify(r.json)}`);
  return r.json;
}

async function pushKek(): Promise<void> {
  await ok('PUT', `/api/v1/keys/local/${kekId}`, { key: kek.use((b) => b.toString('base64')) });
}

/** Polls the VM's console log until `pattern` matches (the guest is slow under TCG). */
async function waitConsole(vmDir: string, pattern: RegExp, timeoutMs = 90_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await readFile(join(vmDir, 'console.log'), 'latin1').catch(() => '');
    if (pattern.test(text)) return text;
    if (Date.now() > deadline) assert.fail(`console never matched ${pattern}; last lines: ${text.slice(-400)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function guestVm(name: string, msg: string, stay: boolean, encrypted = true): Json {
  return {
    name,
    disks: [4 * MiB],
    encryption: encrypted ? { keyProviderId: 'local', keyId: kekId } : null,
    runtime: {
      qemu: true,
      memoryMiB: 96,
      kernel: join(GUEST, 'vmlinuz'),
      initrd: join(GUEST, 'initrd.img'),
      append: `console=ttyS0 quiet panic=-1 cv.msg=${msg}${stay ? ' cv.stay=1' : ''}`,
    },
  };
}

before(async () => {
  if (!existsSync('/usr/bin/qemu-system-x86_64') && !existsSync('/usr/local/bin/qemu-system-x86_64')) return;
  if (!existsSync(join(GUEST, 'initrd.img'))) {
    const built = await runAsync('bash', [join(REPO, 'scripts', 'build-guest.sh'), GUEST]);
    assert.equal(built.status, 0, built.stderr);
  }
  kms = await startTestKms();
  ({ keyId: kekId, key: kek } = await kms.newKek());
  root = await mkdtemp(join(tmpdir(), 'cv-guest-'));
  agentDir = join(root, 'host');
  const init = await initAgent(agentDir, join(root, 'ds'));
  await initCa(join(root, 'center'));
  await issueCertificate(join(root, 'center'), 'center', { kind: 'client' });
  tls = {
    ca: await readFile(join(agentDir, 'pki', 'ca.pem')),
    cert: await readFile(join(root, 'center', 'center.pem')),
    key: await readFile(join(root, 'center', 'center.key')),
  };
  agent = await startAgent({ dataDir: agentDir });
  await ok('POST', '/api/v1/enroll', { token: init.enrollmentToken });
  await pushKek();
  ready = true;
});

after(async () => {
  await agent?.close();
  await kms?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

test('the guest writes a file on an encrypted NBD disk; the extent holds only ciphertext; after an agent restart and the KEK pushed again it finds the file', async (t) => {
  if (!needPeers(t, 'qemu-system-x86_64') || !ready) return;
  const msg = `cv${randomBytes(12).toString('hex')}`;
  const vm = await ok('POST', '/api/v1/vms', guestVm('guest1', msg, false));
  await ok('POST', '/api/v1/vms/guest1/power-on');
  const first = await waitConsole(vm.path, /CV-DONE/);
  assert.match(first, /CV-WROTE/);
  // The guest powered itself off: QEMU exits and the agent closes the VM's exports.
  for (let i = 0; (await ok('GET', '/api/v1/vms/guest1')).powerState !== 'poweredOff'; i++) {
    assert.ok(i < 100, 'the VM never went off after the guest powered off');
    await new Promise((r) => setTimeout(r, 100));
  }

  const extent = await readFile(vm.disks[0].extentPath);
  assert.equal(extent.subarray(0, 6).toString('latin1'), 'LUKS\xba\xbe', 'the extent is a LUKS2 volume');
  for (const needle of [msg, 'hello.txt', 'ustar']) {
    assert.equal(extent.indexOf(needle), -1, `the extent holds "${needle}" in clear`);
  }

  await (agent as RunningAgent).close();
  agent = await startAgent({ dataDir: agentDir });
  const locked = await ok('GET', '/api/v1/vms/guest1');
  assert.equal(locked.cryptoState, 'locked');
  assert.equal((await api('POST', '/api/v1/vms/guest1/power-on')).json.error.code, 'vm_locked');
  await pushKek();
  await ok('POST', '/api/v1/vms/guest1/power-on');
  const second = await waitConsole(vm.path, /CV-FOUND[\s\S]*CV-DONE/);
  assert.match(second, new RegExp(`CV-FOUND:${msg}`));
  await ok('POST', '/api/v1/vms/guest1/power-off');
});

test('snapshot keeps the guest running and suspend stops it, both as sealed files; resume continues the same guest', async (t) => {
  if (!needPeers(t, 'qemu-system-x86_64') || !ready) return;
  const vm = await ok('POST', '/api/v1/vms', guestVm('guest2', 'stay', true));
  await ok('POST', '/api/v1/vms/guest2/power-on');
  await waitConsole(vm.path, /CV-TICK 2\b/);

  const snap = await ok('POST', '/api/v1/vms/guest2/snapshot');
  assert.equal(snap.powerState, 'poweredOn');
  const snapFile = await readFile(join(vm.path, snap.snapshot.file));
  assert.ok(snapFile.subarray(0, SEALED_MAGIC.length).equals(SEALED_MAGIC), 'the snapshot state is sealed');
  assert.equal(snapFile.indexOf('CV-TICK'), -1);
  const afterSnap = await readFile(join(vm.path, 'console.log'), 'latin1');
  const ticksAtSnap = [...afterSnap.matchAll(/CV-TICK (\d+)/g)].length;
  await waitConsole(vm.path, new RegExp(`CV-TICK ${ticksAtSnap + 2}\\b`));

  const suspended = await ok('POST', '/api/v1/vms/guest2/suspend');
  assert.equal(suspended.powerState, 'suspended');
  const state = await readFile(join(vm.path, 'suspend.cvss'));
  assert.ok(state.subarray(0, SEALED_MAGIC.length).equals(SEALED_MAGIC), 'the suspend state is sealed');
  assert.ok(state.length > 64 * 1024, 'the suspend state holds the guest memory');
  // Guest memory holds the tick strings the guest printed; sealed, they are nowhere in the file.
  assert.equal(state.indexOf('CV-TICK'), -1);
  assert.equal(state.indexOf('hello.txt'), -1);
  const before = await readFile(join(vm.path, 'console.log'), 'latin1');
  const lastTick = Math.max(...[...before.matchAll(/CV-TICK (\d+)/g)].map((m) => Number(m[1])));

  const resumed = await ok('POST', '/api/v1/vms/guest2/power-on');
  assert.equal(resumed.powerState, 'poweredOn');
  const text = await waitConsole(vm.path, new RegExp(`CV-TICK ${lastTick + 2}\\b`));
  // The same guest continued: it did not boot again (a boot prints CV-FOUND or CV-WROTE).
  assert.equal([...text.matchAll(/CV-(WROTE|FOUND)/g)].length, 1);
  assert.ok(!(await readdir(vm.path)).includes('suspend.cvss'), 'the suspend state is removed after resume');
  await ok('POST', '/api/v1/vms/guest2/power-off');
});

test('a plain VM suspends to a plain state file (the console text of the guest is in it) and resumes', async (t) => {
  if (!needPeers(t, 'qemu-system-x86_64') || !ready) return;
  const vm = await ok('POST', '/api/v1/vms', guestVm('guest3', 'plain', true, false));
  await ok('POST', '/api/v1/vms/guest3/power-on');
  await waitConsole(vm.path, /CV-TICK 2\b/);
  assert.equal((await ok('POST', '/api/v1/vms/guest3/suspend')).powerState, 'suspended');
  const state = await readFile(join(vm.path, 'suspend.cvss'));
  assert.ok(!state.subarray(0, SEALED_MAGIC.length).equals(SEALED_MAGIC), 'a plain VM has no key to seal with');
  // What the sealed files above must not show: guest memory holds the text it printed.
  assert.notEqual(state.indexOf('CV-TICK'), -1);
  const before = await readFile(join(vm.path, 'console.log'), 'latin1');
  const lastTick = Math.max(...[...before.matchAll(/CV-TICK (\d+)/g)].map((m) => Number(m[1])));
  await ok('POST', '/api/v1/vms/guest3/power-on');
  await waitConsole(vm.path, new RegExp(`CV-TICK ${lastTick + 1}\\b`));
  await ok('POST', '/api/v1/vms/guest3/power-off');
});

test('suspend and snapshot of a VM without the QEMU runtime fail with not_supported', async (t) => {
  if (!needPeers(t, 'qemu-system-x86_64') || !ready) return;
  await ok('POST', '/api/v1/vms', { name: 'plain1', disks: [MiB], encryption: null });
  await ok('POST', '/api/v1/vms/plain1/power-on');
  for (const op of ['suspend', 'snapshot']) {
    const r = await api('POST', `/api/v1/vms/plain1/${op}`);
    assert.equal(r.status, 501);
    assert.equal(r.json.error.code, 'not_supported');
  }
  await ok('POST', '/api/v1/vms/plain1/power-off');
  const bad = await api('POST', '/api/v1/vms', { name: 'bad1', disks: [MiB], encryption: null, runtime: { qemu: true } });
  assert.equal(bad.json.error.code, 'invalid_request');
});
