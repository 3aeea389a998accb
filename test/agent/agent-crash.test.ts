/**
 * Crash safety of the agent's conversions: a real `cryptvisor agent serve` process is killed with
 * SIGKILL during encrypt-existing, deep rekey and decrypt, at 30 seeded random points each; it is
 * restarted, center's part (pushing the KEKs again, from the project's KMS) is played, the VM
 * resumes its pending conversion on unlock (or, when the kill came before the conversion was
 * recorded, the request is made again), and the disk content read through NBD (nbdcopy) must be
 * unchanged. Small disks and 64 KiB conversion steps (agent.json conversionChunkBytes) keep it fast.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { initAgent, type VmView } from '../../src/agent/index.js';
import type { SecretBytes } from '../../src/crypto/index.js';
import { agentCall, centerTls, spawnAgent, type ClientTls, type Json } from '../support/agent-api.js';
import { prng, runAsync } from '../support/cli.js';
import { startTestKms, type TestKms } from '../support/kms.js';
import { needPeers } from '../support/peers.js';

const ROUNDS = 30;
const DISK = 2 * 1024 * 1024;
const CHUNK = 64 * 1024;

let kms: TestKms;
let root: string;
let dir: string;
let center: ClientTls;
let proc: ChildProcess | undefined;
let port = 0;
const keks = new Map<string, SecretBytes>();

const call = (method: string, path: string, body?: unknown) => agentCall(port, center, method, path, body);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function startAgentProcess(): Promise<void> {
  ({ proc, port } = await spawnAgent(dir));
}

async function killAgent(): Promise<void> {
  const p = proc;
  if (!p || p.exitCode !== null) return;
  const exited = new Promise((res) => p.once('exit', res));
  p.kill('SIGKILL');
  await exited;
  proc = undefined;
}

/** After a restart the key cache is empty: push what the VM needs now and the target of the next request. */
async function pushKeys(): Promise<void> {
  const needed = (await call('GET', '/api/v1/needed-keys')).json.keys as { keyId: string }[];
  const ids = [...new Set([...needed.map((k) => k.keyId), ...keks.keys()])];
  for (const id of ids) {
    const key = keks.get(id) as SecretBytes;
    const r = await call('PUT', `/api/v1/keys/local/${id}`, { key: key.use((b) => b.toString('base64')) });
    assert.equal(r.status, 200, JSON.stringify(r.json));
  }
}

async function vm(): Promise<VmView & { pending: string | null }> {
  const r = await call('GET', '/api/v1/vms/c1');
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json as VmView & { pending: string | null };
}

async function readDisk(): Promise<string> {
  const on = await call('POST', '/api/v1/vms/c1/power-on');
  assert.equal(on.status, 200, JSON.stringify(on.json));
  const r = await runAsync('nbdcopy', [(on.json as VmView).disks[0]?.nbdUri as string, '-']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal((await call('POST', '/api/v1/vms/c1/power-off')).status, 200);
  return sha(r.stdout);
}

before(async () => {
  kms = await startTestKms();
  root = await mkdtemp(join(tmpdir(), 'cv-crash-'));
  dir = join(root, 'host');
  const init = await initAgent(dir, join(root, 'ds'));
  const cfgPath = join(dir, 'agent.json');
  const cfg = JSON.parse(await readFile(cfgPath, 'utf8')) as Json;
  await writeFile(cfgPath, JSON.stringify({ ...cfg, conversionChunkBytes: CHUNK }), { mode: 0o600 });
  center = await centerTls(root, dir);
  await startAgentProcess();
  assert.equal((await call('POST', '/api/v1/enroll', { token: init.enrollmentToken })).status, 200);
  for (let i = 0; i < 2; i++) {
    const { keyId, key } = await kms.newKek();
    keks.set(keyId, key);
  }
});

after(async () => {
  await killAgent();
  for (const k of keks.values()) k.dispose();
  await kms?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

test(`kill -9 during encrypt, deep rekey and decrypt at ${ROUNDS} random points each: no data lost, each completes`, async (t) => {
  if (!needPeers(t, 'nbdcopy')) return;
  const [k1, k2] = [...keks.keys()] as [string, string];
  await pushKeys();
  assert.equal((await call('POST', '/api/v1/vms', { name: 'c1', disks: [DISK] })).status, 200);
  const on = (await call('POST', '/api/v1/vms/c1/power-on')).json as VmView;
  const data = randomBytes(DISK);
  assert.equal((await runAsync('nbdcopy', ['-', on.disks[0]?.nbdUri as string], data)).status, 0);
  assert.equal((await call('POST', '/api/v1/vms/c1/power-off')).status, 200);
  const expected = sha(data);

  const ops = [
    {
      name: 'encrypt',
      path: 'encrypt',
      body: { keyProviderId: 'local', keyId: k1 },
      done: (v: VmView) => v.keyId === k1,
    },
    {
      name: 'deep rekey',
      path: 'rekey',
      body: { deep: true, keyProviderId: 'local', keyId: k2 },
      done: (v: VmView) => v.keyId === k2,
    },
    { name: 'decrypt', path: 'decrypt', body: {}, done: (v: VmView) => !v.encrypted },
  ];
  // Calibrate: one uninterrupted run of each operation sets the window the kills are drawn from.
  const window = new Map<string, number>();
  for (const op of ops) {
    const t0 = performance.now();
    const r = await call('POST', `/api/v1/vms/c1/${op.path}`, op.body);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    window.set(op.name, performance.now() - t0);
    assert.equal(await readDisk(), expected);
  }

  const rand = prng(0xc0ffee);
  const stats = { resumed: 0, repeated: 0, finished: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    for (const op of ops) {
      const delay = rand() * (window.get(op.name) as number) * 1.2;
      const inFlight = call('POST', `/api/v1/vms/c1/${op.path}`, op.body).catch(() => undefined);
      await sleep(delay);
      await killAgent();
      await inFlight;
      await startAgentProcess();
      await pushKeys();
      let v = await vm();
      if (v.pending) {
        stats.resumed++;
        const deadline = Date.now() + 20_000;
        while (v.pending && Date.now() < deadline) {
          await sleep(20);
          v = await vm();
        }
        assert.equal(v.pending, null, `round ${round}: ${op.name} did not complete after the restart`);
      } else if (!op.done(v)) {
        stats.repeated++;
        const r = await call('POST', `/api/v1/vms/c1/${op.path}`, op.body);
        assert.equal(r.status, 200, `round ${round}: ${op.name} again: ${JSON.stringify(r.json)}`);
        v = await vm();
      } else {
        stats.finished++;
      }
      assert.ok(op.done(v), `round ${round}: ${op.name} is not in effect: ${JSON.stringify(v)}`);
      assert.equal(await readDisk(), expected, `round ${round}: data changed by a crash during ${op.name}`);
    }
  }
  t.diagnostic(
    `kills: ${ROUNDS * ops.length}; resumed on unlock ${stats.resumed}, asked again ${stats.repeated}, already finished ${stats.finished}`,
  );
  assert.ok(stats.resumed >= ROUNDS, `too few kills landed inside a conversion (${stats.resumed})`);
});
