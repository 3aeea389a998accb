/**
 * `disk recover` against another KMIP server: Debian's pykmip-server (DESIGN §1: any KMIP server
 * may stand in for ours). A disk's DEK wrapped by a KEK created at PyKMIP is recovered with the
 * client identity that created it, and served over NBD; after Revoke, then Destroy, recover refuses
 * (PyKMIP forgets a destroyed object, so that is Item Not Found: key_not_found, exit 3).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretBytes } from '../../src/crypto/index.js';
import { formatImage, openImage } from '../../src/disk/index.js';
import { KmipClient } from '../../src/kmip/index.js';
import { cliAsync, runAsync } from '../support/cli.js';
import { havePeer, needPeers } from '../support/peers.js';
import { startPykmipServer, type PykmipServer } from '../pykmip/server-harness.js';
import { cvAsync, seededBytes, sha } from './stack.js';

const MiB = 1024 * 1024;
const PEERS = ['/usr/bin/pykmip-server', 'py:kmip'];

describe('disk recover with pykmip-server as the key provider', () => {
  let server: PykmipServer | undefined;
  let client: KmipClient;
  let dir: string;
  let img: string;
  let keyId: string;
  const data = seededBytes(MiB, 7);
  let dekHex: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cv-recover-pykmip-'));
    if (!PEERS.every((p) => havePeer(p))) return;
    server = await startPykmipServer();
    client = new KmipClient({
      servers: [{ host: server.host, port: server.port }],
      ca: server.pki.ca,
      cert: server.pki.clientCert,
      key: server.pki.clientKey,
    });
    keyId = await client.create({ algorithm: 'AES', length: 256, usageMask: ['Encrypt', 'Decrypt'] });
    await client.activate(keyId);
    const kek = (await client.get(keyId)).material;
    const dek = SecretBytes.random(64);
    dekHex = dek.use((b) => b.toString('hex'));
    img = join(dir, 'disk.img');
    try {
      await formatImage(img, {
        sizeBytes: data.length,
        volumeKey: dek,
        binding: { kek, keyProviderId: 'pykmip', keyId },
      });
      const opened = await openImage(img, dek);
      await opened.device.write(0, data);
      await opened.close();
    } finally {
      kek.dispose();
      dek.dispose();
    }
  });
  after(async () => {
    client?.close();
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const flags = () => [
    '--kms',
    `${server?.host}:${server?.port}`,
    '--ca',
    server?.pki.paths.ca as string,
    '--cert',
    server?.pki.paths.clientCert as string,
    '--key',
    server?.pki.paths.clientKey as string,
  ];

  it('recovers the volume key and serves the disk: nbdcopy reads the original', async (t) => {
    if (!needPeers(t, ...PEERS, 'nbdcopy')) return;
    const out = join(dir, 'disk.key');
    const r = await cvAsync(['disk', 'recover', img, ...flags(), '--volume-key-file', out, '--json']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal((await readFile(out)).toString('hex'), dekHex, 'the recovered key is the DEK');
    const sock = join(dir, 'r.sock');
    const child = cliAsync(['disk', 'recover', img, ...flags(), '--socket', sock]);
    try {
      for (let i = 0; i < 300 && !existsSync(sock); i++) await new Promise((res) => setTimeout(res, 50));
      const read = await runAsync('nbdcopy', [`nbd+unix:///?socket=${sock}`, '-']);
      assert.equal(read.status, 0, read.stderr);
      assert.equal(sha(read.stdout), sha(data));
    } finally {
      await new Promise<void>((res) => {
        child.on('exit', () => res());
        child.kill('SIGTERM');
      });
    }
  });

  it('after Revoke the key is refused (5); after Destroy PyKMIP no longer knows it (3)', async (t) => {
    if (!needPeers(t, ...PEERS)) return;
    await client.revoke(keyId, 'CessationOfOperation');
    const revoked = await cvAsync([
      'disk',
      'recover',
      img,
      ...flags(),
      '--volume-key-file',
      join(dir, 'no1.key'),
      '--json',
    ]);
    assert.equal(revoked.status, 5, revoked.stdout + revoked.stderr);
    assert.equal((JSON.parse(revoked.stdout) as { error: { code: string } }).error.code, 'key_revoked');
    await client.destroy(keyId);
    const destroyed = await cvAsync([
      'disk',
      'recover',
      img,
      ...flags(),
      '--volume-key-file',
      join(dir, 'no2.key'),
      '--json',
    ]);
    // PyKMIP deletes a destroyed object outright (our KMS keeps it in state Destroyed: key_destroyed).
    assert.equal(destroyed.status, 3, destroyed.stdout + destroyed.stderr);
    assert.equal((JSON.parse(destroyed.stdout) as { error: { code: string } }).error.code, 'key_not_found');
    assert.ok(!existsSync(join(dir, 'no1.key')) && !existsSync(join(dir, 'no2.key')));
  });
});
