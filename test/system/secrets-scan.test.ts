/**
 * The whole scenario through `cryptvisor up` and the CLI, then a scan for key material (issue 5
 * "Tests", issue 4 "Nothing secret is written"): an encrypted VM is created, written through its
 * NBD export, shallow-rekeyed while on, deep-rekeyed, migrated to the other host, cloned with new keys, and its host is killed and comes back; then every KMIP
 * object of the KMS (KEKs old and current, host keys, escrow secrets) is fetched with the KMS
 * administrator identity, every LUKS2 file's DEK is recovered, and every byte under D except the
 * KMS's own sealed store (center's database, logs, run files, hosts' data, the datastore) and
 * everything `up` printed is searched for each secret in raw, hex and base64 forms.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recoverDiskKey } from '../../src/disk/index.js';
import { KmipClient } from '../../src/kmip/index.js';
import { cv as runCv, type CvResult } from '../center/harness.js';
import { CLI } from '../support/cli.js';
import { needPeers } from '../support/peers.js';
import { holdPreferredKmsPort } from '../support/default-port.js';
import { alive, pidOf, waitFor } from '../support/up-processes.js';

interface VmJson {
  readonly name: string;
  readonly host: string;
  readonly powerState: string;
  readonly cryptoState: string;
  readonly keyId: string | null;
  readonly disks: readonly { id: string; extentPath: string; nbdUri?: string }[];
}

const SERVICES = ['kms', 'center', 'host-1', 'host-2', 'up'];

function run(cmd: string, args: readonly string[]): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, out }));
  });
}

async function files(dir: string, skip: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (p === skip) continue;
    if (e.isDirectory()) out.push(...(await files(p, skip)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

async function isLuks(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(6);
    await fh.read(b, 0, 6, 0);
    return b.equals(Buffer.from([0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe]));
  } finally {
    await fh.close();
  }
}

/** The forms a secret could take in a file or a log line. */
function forms(secret: Buffer): Buffer[] {
  const hex = secret.toString('hex');
  return [
    secret,
    secret.subarray(0, 16),
    secret.subarray(secret.length - 16),
    Buffer.from(hex),
    Buffer.from(hex.toUpperCase()),
    Buffer.from(secret.toString('base64')),
    Buffer.from(secret.toString('base64url')),
  ];
}

test('after the whole scenario under `cryptvisor up`, no KEK or DEK is in any file, database or log', { timeout: 900_000 }, async (t) => {
  if (!needPeers(t, 'qemu-io')) return;
  await holdPreferredKmsPort(t);
  const data = mkdtempSync(join(tmpdir(), 'cv-scan-'));
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: join(data, 'home'), XDG_CONFIG_HOME: join(data, 'config') };
  const up: ChildProcess = spawn(process.execPath, [CLI, 'up', '--data', data, '--hosts', '2'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  let printed = '';
  up.stdout!.on('data', (c: Buffer) => (printed += c.toString()));
  up.stderr!.on('data', (c: Buffer) => (printed += c.toString()));
  t.after(() => {
    for (const name of SERVICES) {
      const pid = pidOf(data, name);
      if (alive(pid)) process.kill(pid as number, 'SIGKILL');
    }
    if (up.exitCode === null) up.kill('SIGKILL');
    rmSync(data, { recursive: true, force: true });
  });
  await waitFor(
    () => {
      if (up.exitCode !== null) throw new Error(`up exited (${up.exitCode}) before ready`);
      return /^ready$/m.test(printed);
    },
    300_000,
    'ready',
  ).catch((err: Error) => {
    throw new Error(`${err.message}; up printed:\n${printed}`);
  });

  const cv = async (...args: string[]): Promise<CvResult> => {
    const r = await runCv([...args, '--data', data], { env });
    assert.equal(r.status, 0, `cryptvisor ${args.join(' ')}: ${r.stdout}\n${r.stderr}`);
    return r;
  };
  const show = async (name: string): Promise<VmJson> => (await cv('vm', 'show', name, '--json')).json<VmJson>();
  const qemuIo = async (uri: string, cmd: string): Promise<void> => {
    const r = await run('qemu-io', ['-f', 'raw', '-c', cmd, uri]);
    assert.equal(r.status, 0, r.out);
    assert.doesNotMatch(r.out, /Pattern verification failed|error/i, r.out);
  };

  // An encrypted VM, written through its export while on, rekeyed (shallow) while on.
  await cv('vm', 'create', 'scan-1', '--host', 'host-1', '--disk', '16M', '--policy', 'VM Encryption Policy', '--json');
  let vm = (await cv('vm', 'power-on', 'scan-1', '--json')).json<VmJson>();
  await qemuIo(vm.disks[0]!.nbdUri!, 'write -P 0x5c 0 1M');
  await cv('vm', 'rekey', 'scan-1', '--json');
  await cv('vm', 'power-off', 'scan-1', '--json');
  await cv('vm', 'rekey', 'scan-1', '--deep', '--json');
  await cv('vm', 'migrate', 'scan-1', '--to', 'host-2', '--json');
  await cv('vm', 'clone', 'scan-1', 'scan-2', '--new-keys', '--json');
  assert.equal((await show('scan-1')).host, 'host-2');

  // host-2 crashes: restarted by up, its VMs locked until center pushes the keys again.
  const old = pidOf(data, 'host-2') as number;
  process.kill(old, 'SIGKILL');
  await waitFor(() => {
    const p = pidOf(data, 'host-2');
    return p !== undefined && p !== old && alive(p);
  }, 30_000, 'host-2 restarted');
  await waitFor(async () => (await show('scan-1')).cryptoState === 'unlocked', 60_000, 'scan-1 unlocked again');
  vm = (await cv('vm', 'power-on', 'scan-1', '--json')).json<VmJson>();
  await qemuIo(vm.disks[0]!.nbdUri!, 'read -P 0x5c 0 1M');
  await cv('vm', 'power-off', 'scan-1', '--json');

  // Every secret: each KMIP object the KMS holds, and each LUKS2 file's DEK.
  const endpoints = JSON.parse(readFileSync(join(data, 'run', 'endpoints.json'), 'utf8')) as { kms: { kmip: string } };
  const [kmsHost, kmsPort] = endpoints.kms.kmip.split(':') as [string, string];
  const pki = join(data, 'kms', 'pki');
  const kmip = new KmipClient({
    servers: [{ host: kmsHost, port: Number(kmsPort) }],
    ca: await readFile(join(pki, 'ca.pem')),
    cert: await readFile(join(pki, 'admin.pem')),
    key: await readFile(join(pki, 'admin.key')),
    poolSize: 1,
  });
  const secrets: Buffer[] = [];
  try {
    const ids = await kmip.locate();
    for (const id of ids) {
      const obj = await kmip.get(id).catch(() => undefined);
      if (!obj) continue;
      secrets.push(obj.material.use((b) => Buffer.from(b)));
      obj.material.dispose();
    }
    assert.ok(secrets.length >= 6, `KEKs of the VMs and host keys (${secrets.length} objects)`);
    let deks = 0;
    for (const f of await files(join(data, 'datastore'), '')) {
      if (!(await isLuks(f))) continue;
      const r = await recoverDiskKey(f, { kms: kmip }).catch(() => undefined);
      if (!r) continue;
      secrets.push(r.dek.use((b) => Buffer.from(b)));
      r.dek.dispose();
      deks++;
    }
    assert.ok(deks >= 4, `DEKs of scan-1, scan-2 and the example VMs (${deks})`);
  } finally {
    kmip.close();
  }

  // Stop everything so logs and databases are complete, then scan.
  await cv('down');
  await waitFor(() => up.exitCode !== null, 60_000, 'up to stop');
  const needles = secrets.flatMap(forms);
  const scanned = await files(data, join(data, 'kms'));
  assert.ok(scanned.some((f) => f.endsWith('.db')), "center's database is scanned");
  assert.ok(scanned.some((f) => f.includes('logs')), 'the logs are scanned');
  const haystacks: [string, Buffer][] = [['up output', Buffer.from(printed)]];
  for (const f of scanned) haystacks.push([f, await readFile(f)]);
  for (const [where, content] of haystacks) {
    for (const n of needles) assert.equal(content.indexOf(n), -1, `${where} holds key material`);
  }
  for (const s of secrets) s.fill(0);
});
