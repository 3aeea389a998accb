import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { connect, createServer, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needPeers } from '../../test/support/peers.js';
import { CommonError } from './errors.js';
import {
  certificateInfo,
  createCsr,
  initCa,
  issueCertificate,
  renewCertificate,
  signCsr,
  verifyIssuedBy,
} from './pki.js';

async function tmp(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cv-pki-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** One mutual-TLS handshake: resolves with the peer subjects seen by both sides, or rejects. */
async function handshake(
  server: { cert: string; key: string; ca: string },
  client: { cert: string; key: string; ca: string },
): Promise<{ serverSawCn: string; clientSawCn: string }> {
  let serverSawCn = '';
  const srv = createServer(
    {
      cert: server.cert,
      key: server.key,
      ca: server.ca,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    },
    (sock: TLSSocket) => {
      serverSawCn = String(sock.getPeerCertificate().subject.CN);
      sock.end('ok');
    },
  );
  srv.on('tlsClientError', () => undefined);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  try {
    return await new Promise((resolve, reject) => {
      const sock = connect({
        host: '127.0.0.1',
        port,
        servername: 'localhost',
        cert: client.cert,
        key: client.key,
        ca: client.ca,
      });
      let data = '';
      sock.on('data', (d: Buffer) => (data += d.toString()));
      sock.on('end', () => {
        if (data === 'ok')
          resolve({ serverSawCn, clientSawCn: String(sock.getPeerCertificate().subject.CN) });
        else reject(new Error('connection closed by server'));
      });
      sock.on('error', reject);
    });
  } finally {
    srv.close();
  }
}

test('a CA, a server and a client certificate do a mutual-TLS handshake; another CA is refused', async (t) => {
  const dir = await tmp(t);
  const other = await tmp(t);
  const ca = await initCa(dir);
  assert.match(ca.fingerprintSha256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  await issueCertificate(dir, 'server', { kind: 'server', sans: ['localhost', '127.0.0.1'] });
  await issueCertificate(dir, 'admin', { kind: 'client' });
  await initCa(other, { commonName: 'other CA' });
  await issueCertificate(other, 'admin', { kind: 'client' });

  const r = (d: string, f: string) => readFile(join(d, f), 'utf8');
  const caPem = await r(dir, 'ca.pem');
  const server = { cert: await r(dir, 'server.pem'), key: await r(dir, 'server.key'), ca: caPem };
  const client = { cert: await r(dir, 'admin.pem'), key: await r(dir, 'admin.key'), ca: caPem };
  const seen = await handshake(server, client);
  assert.deepEqual(seen, { serverSawCn: 'admin', clientSawCn: 'server' });

  const stranger = { cert: await r(other, 'admin.pem'), key: await r(other, 'admin.key'), ca: caPem };
  await assert.rejects(handshake(server, stranger));
  assert.equal(await verifyIssuedBy(stranger.cert, caPem), false);
  assert.equal(await verifyIssuedBy(client.cert, caPem), true);

  for (const f of ['ca.key', 'server.key', 'admin.key'])
    assert.equal((await stat(join(dir, f))).mode & 0o777, 0o600, f);
});

test('EKUs, key usage and SANs as openssl sees them', async (t) => {
  if (!needPeers(t, 'openssl')) return;
  const dir = await tmp(t);
  await initCa(dir);
  await issueCertificate(
    dir,
    'kms',
    { kind: 'server', sans: ['localhost', '127.0.0.1', '::1'] },
    { commonName: 'kms.example' },
  );
  await issueCertificate(dir, 'center', { kind: 'client' });
  const text = (f: string) => {
    const p = spawnSync('openssl', ['x509', '-noout', '-text', '-in', join(dir, f)], { encoding: 'utf8' });
    assert.equal(p.status, 0, p.stderr);
    return p.stdout;
  };
  const srv = text('kms.pem');
  assert.match(srv, /TLS Web Server Authentication/);
  assert.doesNotMatch(srv, /TLS Web Client Authentication/);
  assert.match(srv, /Digital Signature, Key Encipherment/);
  assert.match(srv, /DNS:localhost, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1/);
  assert.match(srv, /Subject: CN ?= ?kms\.example/);
  assert.match(srv, /Public-Key: \(2048 bit\)/);
  const cli = text('center.pem');
  assert.match(cli, /TLS Web Client Authentication/);
  assert.doesNotMatch(cli, /TLS Web Server Authentication/);
  assert.match(cli, /Subject: CN ?= ?center/);
  const v = spawnSync(
    'openssl',
    ['verify', '-CAfile', join(dir, 'ca.pem'), join(dir, 'kms.pem'), join(dir, 'center.pem')],
    { encoding: 'utf8' },
  );
  assert.equal(v.status, 0, v.stdout + v.stderr);

  const info = certificateInfo(await readFile(join(dir, 'kms.pem'), 'utf8'));
  assert.deepEqual(info.eku, ['serverAuth']);
  assert.deepEqual(info.sans, ['DNS:localhost', 'IP:127.0.0.1', 'IP:::1']);
  const fp = spawnSync(
    'openssl',
    ['x509', '-noout', '-fingerprint', '-sha256', '-in', join(dir, 'kms.pem')],
    { encoding: 'utf8' },
  );
  assert.equal(fp.stdout.trim().split('=')[1], info.fingerprintSha256);
});

test('CSR signing, renewal, and refusals', async (t) => {
  const dir = await tmp(t);
  await initCa(dir);
  await assert.rejects(initCa(dir), (e: unknown) => e instanceof CommonError && e.code === 'file_exists');
  await issueCertificate(dir, 'host-1', { kind: 'client' });
  await assert.rejects(
    issueCertificate(dir, 'host-1', { kind: 'client' }),
    (e: unknown) => e instanceof CommonError && e.code === 'file_exists',
  );
  await assert.rejects(
    issueCertificate(dir, '../evil', { kind: 'client' }),
    (e: unknown) => e instanceof CommonError && e.code === 'usage',
  );
  await assert.rejects(
    issueCertificate(dir, 's', { kind: 'server', sans: ['bad name!'] }),
    (e: unknown) => e instanceof CommonError && e.code === 'usage',
  );
  await assert.rejects(
    issueCertificate(dir, 's', { kind: 'server', sans: [] }),
    (e: unknown) => e instanceof CommonError && e.code === 'usage',
  );

  const { csrPem, keyPem } = await createCsr('center.local', { sans: ['center.local'] });
  assert.match(keyPem, /BEGIN PRIVATE KEY/);
  const certPem = await signCsr(dir, csrPem, { kind: 'server' });
  const info = certificateInfo(certPem);
  assert.equal(info.subject, 'CN=center.local');
  assert.deepEqual(info.sans, ['DNS:center.local']);
  assert.deepEqual(info.eku, ['serverAuth']);
  assert.equal(await verifyIssuedBy(certPem, await readFile(join(dir, 'ca.pem'), 'utf8')), true);
  const tampered = csrPem.replace(/^(.{40})./m, (_m, a: string) => `${a}${a.endsWith('A') ? 'B' : 'A'}`);
  await assert.rejects(
    signCsr(dir, tampered, { kind: 'client' }),
    (e: unknown) => e instanceof CommonError && e.code === 'pki_invalid',
  );
  await assert.rejects(
    signCsr(dir, 'garbage', { kind: 'client' }),
    (e: unknown) => e instanceof CommonError && e.code === 'pki_invalid',
  );

  const before = certificateInfo(await readFile(join(dir, 'host-1.pem'), 'utf8'));
  const renewed = await renewCertificate(dir, 'host-1', { days: 30 });
  const after = certificateInfo(await readFile(renewed.certFile, 'utf8'));
  assert.equal(after.subject, before.subject);
  assert.deepEqual(after.eku, ['clientAuth']);
  assert.notEqual(after.fingerprintSha256, before.fingerprintSha256);
  assert.equal((await stat(renewed.keyFile)).mode & 0o777, 0o600);
  assert.throws(
    () => certificateInfo('not a cert'),
    (e: unknown) => e instanceof CommonError && e.code === 'pki_invalid',
  );
});
