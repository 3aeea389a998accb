/**
 * `cryptvisor disk recover` with KMS access, against a real system: our KMS (mutual TLS, the
 * administrator identity of D/kms/pki) and a real agent that made an encrypted VM on a datastore
 * and wrote data to it over NBD. With the agent gone:
 * - recover serves the disk read-only over NBD, and nbdcopy reads back the data the guest wrote;
 * - recover writes a 0600 volume key file (with a warning) that cryptsetup accepts
 *   (`open --test-passphrase --volume-key-file`, `luksAddKey --volume-key-file`) and with which
 *   the independent Python decryptor decrypts the same data;
 * - the errors: a revoked or destroyed key (5), a foreign client identity (4), another identity of
 *   the KMS that may not see the key (3), the KMS unreachable (5), not a cryptvisor disk (1), a
 *   disk without a wrapped DEK (3), an extent moved out of its VM folder (5, then --vm-uuid/--disk-id).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { VmView } from '../../src/agent/index.js';
import { initCa, issueCertificate } from '../../src/common/pki.js';
import { SecretBytes } from '../../src/crypto/index.js';
import { formatImage } from '../../src/disk/index.js';
import { cliAsync, runAsync } from '../support/cli.js';
import { needPeers, PYTHON } from '../support/peers.js';
import { DECRYPTOR, cvAsync, seededBytes, sha, startRecoveryStack, type RecoveryStack } from './stack.js';

const MiB = 1024 * 1024;

/** A TCP port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Runs `disk recover IMAGE ARGS --json`, expecting exit `status` and the JSON error `code`. */
async function recoverFails(
  image: string,
  args: readonly string[],
  status: number,
  code: string,
): Promise<void> {
  const r = await cvAsync(['disk', 'recover', image, ...args, '--json']);
  assert.equal(r.status, status, r.stdout + r.stderr);
  assert.equal((JSON.parse(r.stdout) as { error: { code: string } }).error.code, code);
}

/** `disk recover`'s KMS flags for an address and a client identity. */
const kmsAs = (address: string, ca: string, cert: string, key: string): string[] => [
  '--kms',
  address,
  '--ca',
  ca,
  '--cert',
  cert,
  '--key',
  key,
];

describe('disk recover with KMS access', () => {
  let s: RecoveryStack;
  let extent: string;
  let vm: VmView;
  const data = seededBytes(4 * MiB, 6);

  before(async () => {
    s = await startRecoveryStack();
    const keyId = await s.newKek();
    const made = await s.agentCall('POST', '/api/v1/vms', {
      name: 'r1',
      disks: [4 * MiB],
      encryption: { keyProviderId: 'kms1', keyId },
    });
    assert.equal(made.status, 200, JSON.stringify(made.json));
    vm = made.json as VmView;
    extent = vm.disks[0]?.extentPath as string;
    if (existsSync('/usr/bin/nbdcopy')) {
      const on = (await s.agentCall('POST', '/api/v1/vms/r1/power-on')).json as VmView;
      const wrote = await runAsync('nbdcopy', ['-', on.disks[0]?.nbdUri as string], data);
      assert.equal(wrote.status, 0, wrote.stderr);
      assert.equal((await s.agentCall('POST', '/api/v1/vms/r1/power-off')).status, 200);
    }
    await s.stopAgent(); // the host is gone; only the datastore and the KMS remain
  });
  after(async () => s?.close());

  it('serves the disk read-only over NBD: nbdcopy reads back what the guest wrote; writes are refused', async (t) => {
    if (!needPeers(t, 'nbdcopy')) return;
    const sock = join(s.root, 'recover', 'r1.sock');
    const child = cliAsync(['disk', 'recover', extent, ...s.kmsFlags(), '--socket', sock, '--json']);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    for (let i = 0; i < 200 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(existsSync(sock), `the export appears (${err})`);
    const uri = `nbd+unix:///?socket=${sock}`;
    const read = await runAsync('nbdcopy', [uri, '-']);
    assert.equal(read.status, 0, read.stderr);
    assert.equal(sha(read.stdout), sha(data));
    const write = await runAsync('nbdcopy', ['-', uri], Buffer.alloc(4096));
    assert.notEqual(write.status, 0, 'a recovery export is read-only');
    const code = await new Promise<number | null>((resolve) => {
      child.on('exit', (c) => resolve(c));
      child.kill('SIGTERM');
    });
    assert.equal(code, 0);
    const line = JSON.parse(out.trim().split('\n')[0] as string) as Record<string, unknown>;
    assert.deepEqual(line, { uri, image: extent, readOnly: true, keyProviderId: 'kms1', keyId: vm.keyId });
  });

  it('writes a 0600 volume key file with a warning; cryptsetup and the Python decryptor accept it', async (t) => {
    if (!needPeers(t, 'cryptsetup', 'py:cryptography')) return;
    const out = join(s.root, 'keys', 'r1.key');
    await mkdir(join(s.root, 'keys'), { mode: 0o700 });
    const r = await cvAsync([
      'disk',
      'recover',
      extent,
      '--data',
      s.data,
      '--volume-key-file',
      out,
      '--json',
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      image: extent,
      keyProviderId: 'kms1',
      keyId: vm.keyId,
      volumeKeyFile: out,
    });
    assert.match(r.stderr, /warning: .* holds the disk's volume key in clear/);
    const st = await stat(out);
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(st.size, 64);
    const key = await readFile(out);
    for (const shown of [r.stdout, r.stderr])
      assert.ok(!shown.includes(key.toString('hex')) && !shown.includes(key.toString('base64')));
    // A second run refuses to overwrite the key file.
    assert.equal(
      (await cvAsync(['disk', 'recover', extent, '--data', s.data, '--volume-key-file', out])).status,
      1,
    );

    const test = await runAsync('cryptsetup', [
      'open',
      '--test-passphrase',
      '--key-size',
      '512',
      '--volume-key-file',
      out,
      extent,
    ]);
    assert.equal(test.status, 0, test.stderr);
    const copy = join(s.root, 'copy.img');
    await copyFile(extent, copy);
    const pass = join(s.root, 'keys', 'pass');
    await writeFile(pass, 'a passphrase for the copy', { mode: 0o600 });
    const add = await runAsync('cryptsetup', [
      'luksAddKey',
      '--batch-mode',
      '--pbkdf',
      'pbkdf2',
      '--pbkdf-force-iterations',
      '1000',
      '--key-size',
      '512',
      '--volume-key-file',
      out,
      copy,
      pass,
    ]);
    assert.equal(add.status, 0, add.stderr);

    if (!needPeers(t, 'nbdcopy')) return; // the data was written over NBD
    const plain = join(s.root, 'plain.bin');
    const py = await runAsync(PYTHON, [DECRYPTOR, extent, out, plain]);
    assert.equal(py.status, 0, py.stderr);
    assert.equal(sha(await readFile(plain)), sha(data));
  });

  it('refuses a revoked and a destroyed key (exit 5), without touching the disk', async () => {
    const keyId = await s.newKek();
    const kek = (await s.admin.get(keyId)).material;
    const img = join(s.root, 'standalone.img');
    const dek = SecretBytes.random(64);
    await formatImage(img, {
      sizeBytes: MiB,
      volumeKey: dek,
      binding: { kek, keyProviderId: 'kms1', keyId },
    });
    kek.dispose();
    dek.dispose();
    const before = sha(await readFile(img));
    const out = join(s.root, 'keys', 'standalone.key');
    const ok = await cvAsync(['disk', 'recover', img, ...s.kmsFlags(), '--volume-key-file', out]);
    assert.equal(ok.status, 0, ok.stderr);

    await s.admin.revoke(keyId, 'CessationOfOperation');
    await recoverFails(img, [...s.kmsFlags(), '--volume-key-file', `${out}.2`], 5, 'key_revoked');
    await s.admin.destroy(keyId);
    await recoverFails(img, [...s.kmsFlags(), '--volume-key-file', `${out}.3`], 5, 'key_destroyed');
    assert.ok(!existsSync(`${out}.2`) && !existsSync(`${out}.3`));
    assert.equal(sha(await readFile(img)), before);
  });

  it('identities and reachability: foreign CA (4), another KMS identity (3), KMS down (5)', async () => {
    const keyOut = join(s.root, 'keys', 'never.key');
    const foreign = join(s.root, 'foreign-ca');
    await initCa(foreign);
    const f = await issueCertificate(foreign, 'intruder', { kind: 'client' });
    await recoverFails(
      extent,
      [...kmsAs(`127.0.0.1:${s.kmsPort}`, s.kmsInit.ca, f.certFile, f.keyFile), '--volume-key-file', keyOut],
      4,
      'kms_denied',
    );

    // A client of the KMS's own CA that is not the administrator: our KMS hides others' keys.
    const other = await issueCertificate(s.kmsInit.pkiDir, 'operator', { kind: 'client' });
    await recoverFails(
      extent,
      [
        ...kmsAs(`127.0.0.1:${s.kmsPort}`, s.kmsInit.ca, other.certFile, other.keyFile),
        '--volume-key-file',
        keyOut,
      ],
      3,
      'key_not_found',
    );

    await recoverFails(
      extent,
      [
        ...kmsAs(`127.0.0.1:${await closedPort()}`, s.kmsInit.ca, s.kmsInit.adminCert, s.kmsInit.adminKey),
        '--volume-key-file',
        keyOut,
      ],
      5,
      'kms_unavailable',
    );
    assert.ok(!existsSync(keyOut));

    const usage = await cvAsync(['disk', 'recover', extent, ...s.kmsFlags()]);
    assert.equal(usage.status, 2, 'serve or key file: one is required');
  });

  it('not a cryptvisor disk (1), no wrapped DEK (3), a moved extent (5, then --vm-uuid and --disk-id)', async (t) => {
    const keyOut = (n: string) => join(s.root, 'keys', `${n}.key`);
    const raw = join(s.root, 'raw.img');
    await writeFile(raw, Buffer.alloc(MiB));
    assert.equal(
      (await cvAsync(['disk', 'recover', raw, ...s.kmsFlags(), '--volume-key-file', keyOut('raw')])).status,
      1,
    );
    const unwrapped = join(s.root, 'unwrapped.img');
    const dek = SecretBytes.random(64);
    await formatImage(unwrapped, { sizeBytes: MiB, volumeKey: dek });
    dek.dispose();
    await recoverFails(unwrapped, [...s.kmsFlags(), '--volume-key-file', keyOut('nw')], 3, 'dek_not_wrapped');

    const moved = join(s.root, 'moved-r1.img');
    await rename(extent, moved);
    try {
      await recoverFails(moved, [...s.kmsFlags(), '--volume-key-file', keyOut('moved')], 5, 'unwrap_failed');
      const found = await cvAsync([
        'disk',
        'recover',
        moved,
        ...s.kmsFlags(),
        '--vm-uuid',
        vm.uuid,
        '--disk-id',
        'disk-0',
        '--volume-key-file',
        keyOut('moved'),
      ]);
      assert.equal(found.status, 0, found.stderr);
    } finally {
      await rename(moved, extent);
    }

    if (!needPeers(t, 'cryptsetup')) return;
    const foreign = join(s.root, 'luks-only.img');
    await writeFile(foreign, Buffer.alloc(20 * MiB));
    const vk = keyOut('foreign-vk');
    await writeFile(vk, seededBytes(64, 9), { mode: 0o600 });
    const fmt = await runAsync('cryptsetup', [
      'luksFormat',
      '--batch-mode',
      '--type',
      'luks2',
      '--pbkdf',
      'pbkdf2',
      '--pbkdf-force-iterations',
      '1000',
      '--key-size',
      '512',
      '--volume-key-file',
      vk,
      foreign,
      vk,
    ]);
    assert.equal(fmt.status, 0, fmt.stderr);
    await recoverFails(
      foreign,
      [...s.kmsFlags(), '--volume-key-file', keyOut('foreign')],
      1,
      'not_cryptvisor_disk',
    );
  });
});
