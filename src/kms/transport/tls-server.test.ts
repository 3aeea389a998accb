import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { Tag, child, decodeTtlv, encodeTtlv, jsonToTtlv, ttlvToJson, ttlvToXml, xmlToTtlv } from '../../kmip/index.js';
import { initCa, issueCertificate } from '../../common/pki.js';
import { silentLogger } from '../../common/logging.js';
import { subjectOfPemFile } from '../identity.js';
import { batchResults, request, startTestService } from '../test-harness.js';
import { createKmsListener } from './tls-server.js';

interface Pki {
  ca: Buffer;
  serverKey: Buffer;
  serverCert: Buffer;
  client: { key: Buffer; cert: Buffer };
  admin: { key: Buffer; cert: Buffer };
  adminSubject: string;
  /** A server certificate used as a client one: no clientAuth EKU. */
  noEku: { key: Buffer; cert: Buffer };
  other: { key: Buffer; cert: Buffer; ca: Buffer };
}

async function makePki(t: { after(fn: () => Promise<void>): void }): Promise<Pki> {
  const dir = await mkdtemp(join(tmpdir(), 'cv-kms-tls-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  await initCa(a);
  await initCa(b);
  await issueCertificate(a, 'server', { kind: 'server', sans: ['localhost', '127.0.0.1'] });
  await issueCertificate(a, 'client', { kind: 'client' });
  await issueCertificate(a, 'admin', { kind: 'client' });
  await issueCertificate(a, 'noeku', { kind: 'server', sans: ['localhost'] });
  await issueCertificate(b, 'client', { kind: 'client' });
  const pair = async (d: string, n: string) => ({ key: await readFile(join(d, `${n}.key`)), cert: await readFile(join(d, `${n}.pem`)) });
  return {
    ca: await readFile(join(a, 'ca.pem')),
    serverKey: await readFile(join(a, 'server.key')),
    serverCert: await readFile(join(a, 'server.pem')),
    client: await pair(a, 'client'),
    admin: await pair(a, 'admin'),
    adminSubject: subjectOfPemFile(join(a, 'admin.pem')),
    noEku: await pair(a, 'noeku'),
    other: { ...(await pair(b, 'client')), ca: await readFile(join(b, 'ca.pem')) },
  };
}

async function startListener(t: { after(fn: () => Promise<void>): void }, pki: Pki, over: { requireClientAuthEku?: boolean; maxMessageBytes?: number } = {}) {
  const kms = await startTestService(t);
  const server = createKmsListener({
    key: pki.serverKey,
    cert: pki.serverCert,
    ca: pki.ca,
    adminSubject: pki.adminSubject,
    requireClientAuthEku: over.requireClientAuthEku ?? true,
    maxMessageBytes: over.maxMessageBytes ?? 64 * 1024,
    idleTimeoutMs: 10_000,
    messageTimeoutMs: 2_000,
    mode: 'mixed',
    handler: kms.service.handler,
    metrics: kms.service.metrics,
    logger: silentLogger(),
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const sockets = new Set<TLSSocket>();
  server.on('secureConnection', (s: TLSSocket) => sockets.add(s));
  t.after(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
  return { port: (server.address() as AddressInfo).port, kms };
}

function open(port: number, pki: Pki, opts: Partial<ConnectionOptions> = {}): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, ca: pki.ca, servername: 'localhost', key: pki.client.key, cert: pki.client.cert, ...opts });
    s.once('secureConnect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Sends bytes, reads one TTLV message back (or null when the server closes first). */
function exchange(s: TLSSocket, bytes: Uint8Array): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (c: Buffer): void => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= 8 && buf.length >= 8 + buf.readUInt32BE(4)) {
        cleanup();
        resolve(buf.subarray(0, 8 + buf.readUInt32BE(4)));
      }
    };
    const onEnd = (): void => {
      cleanup();
      resolve(null);
    };
    const cleanup = (): void => {
      s.off('data', onData);
      s.off('end', onEnd);
      s.off('close', onEnd);
      s.off('error', reject);
    };
    s.on('data', onData);
    s.once('end', onEnd);
    s.once('close', onEnd);
    s.once('error', reject);
    s.write(bytes);
  });
}

/** Whether the server lets a TLS client in and answers it. */
async function answered(port: number, pki: Pki, opts: Partial<ConnectionOptions>): Promise<boolean> {
  try {
    const s = await open(port, pki, opts);
    const res = await exchange(s, encodeTtlv(request('1.2', [{ operation: 'DiscoverVersions', payload: [] }])));
    s.destroy();
    return res !== null;
  } catch {
    return false;
  }
}

const discover = () => encodeTtlv(request('1.4', [{ operation: 'DiscoverVersions', payload: [] }]));

test('tls: KMIP over mutual TLS 1.3 and 1.2 (PyKMIP\'s two ECDHE-RSA suites), several messages per connection', async (t) => {
  const pki = await makePki(t);
  const { port } = await startListener(t, pki);
  const s = await open(port, pki);
  assert.equal(s.getProtocol(), 'TLSv1.3');
  for (let i = 0; i < 3; i++) {
    const res = await exchange(s, discover());
    assert.ok(res);
    assert.equal(batchResults(decodeTtlv(res))[0]?.status, 'Success');
  }
  s.destroy();
  for (const suite of ['ECDHE-RSA-AES128-SHA256', 'ECDHE-RSA-AES256-SHA384']) {
    const s12 = await open(port, pki, { maxVersion: 'TLSv1.2', ciphers: suite });
    assert.equal(s12.getCipher().standardName.includes(suite.includes('128') ? 'AES_128_CBC_SHA256' : 'AES_256_CBC_SHA384'), true);
    assert.ok(await exchange(s12, discover()));
    s12.destroy();
  }
});

test('tls: no client certificate, another CA, or no clientAuth EKU: refused; the EKU check can be turned off', async (t) => {
  const pki = await makePki(t);
  const { port } = await startListener(t, pki);
  assert.equal(await answered(port, pki, {}), true);
  assert.equal(await answered(port, pki, { key: undefined, cert: undefined }), false, 'no client certificate');
  assert.equal(await answered(port, pki, { key: pki.other.key, cert: pki.other.cert }), false, 'another CA');
  assert.equal(await answered(port, pki, { key: pki.noEku.key, cert: pki.noEku.cert }), false, 'no clientAuth EKU');
  const relaxed = await startListener(t, pki, { requireClientAuthEku: false });
  assert.equal(await answered(relaxed.port, pki, { key: pki.noEku.key, cert: pki.noEku.cert }), true, 'EKU check off');
  assert.equal(await answered(relaxed.port, pki, { key: undefined, cert: undefined }), false, 'EKU check off, no certificate');
  assert.equal(await answered(relaxed.port, pki, { key: pki.other.key, cert: pki.other.cert }), false, 'EKU check off, another CA');
  assert.equal(await answered(port, pki, {}), true, 'still serving');
});

test('tls: a length over the limit is answered at once from the header, garbage too; others are still served', async (t) => {
  const pki = await makePki(t);
  const { port } = await startListener(t, pki, { maxMessageBytes: 4096 });
  const s = await open(port, pki);
  const header = Buffer.from('42007801ffffff00', 'hex');
  const started = Date.now();
  const res = await exchange(s, header);
  assert.ok(res, 'an error response, not a wait');
  assert.ok(Date.now() - started < 1500);
  assert.equal(batchResults(decodeTtlv(res))[0]?.reason, 'InvalidMessage');
  s.destroy();
  const g = await open(port, pki);
  const garbage = await exchange(g, Buffer.from('\x00\x01garbage garbage garbage', 'latin1'));
  assert.ok(garbage);
  assert.equal(batchResults(decodeTtlv(garbage))[0]?.reason, 'InvalidMessage');
  g.destroy();
  const bad = await open(port, pki);
  const body = encodeTtlv(request('1.2', [{ operation: 'Query', payload: [] }]));
  body[20] = 0x77; // a wrong type byte inside the message
  const r2 = await exchange(bad, body);
  assert.ok(r2);
  assert.notEqual(batchResults(decodeTtlv(r2))[0]?.status, 'Success');
  assert.ok(await exchange(bad, discover()), 'the same connection keeps serving');
  bad.destroy();
  assert.equal(await answered(port, pki, {}), true);
});

function https(port: number, pki: Pki, method: string, path: string, body?: Buffer, type = 'application/octet-stream') {
  return new Promise<{ status: number; type: string; body: Buffer }>((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port, method, path, ca: pki.ca, servername: 'localhost', key: pki.client.key, cert: pki.client.cert, headers: body ? { 'content-type': type } : {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: Buffer.concat(chunks) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

test('https on the KMIP port: POST /kmip (TTLV), GET /health, GET /metrics', async (t) => {
  const pki = await makePki(t);
  const { port } = await startListener(t, pki);
  const res = await https(port, pki, 'POST', '/kmip', discover());
  assert.equal(res.status, 200);
  assert.equal(res.type, 'application/octet-stream');
  const msg = decodeTtlv(res.body);
  assert.ok(child(msg, Tag.ResponseHeader));
  const health = await https(port, pki, 'GET', '/health');
  assert.equal(health.status, 200);
  assert.equal(JSON.parse(health.body.toString()).status, 'ok');
  const metrics = await https(port, pki, 'GET', '/metrics');
  assert.match(metrics.body.toString(), /cryptvisor_kms_operations_total\{operation="DiscoverVersions",result="Success"\} 1/);
  const asJson = await https(port, pki, 'POST', '/kmip', Buffer.from(ttlvToJson(request('2.0', [{ operation: 'DiscoverVersions', payload: [] }]))), 'application/json');
  assert.equal(asJson.type, 'application/json');
  assert.equal(batchResults(jsonToTtlv(asJson.body.toString()))[0]?.status, 'Success');
  const asXml = await https(port, pki, 'POST', '/kmip', Buffer.from(ttlvToXml(request('1.4', [{ operation: 'DiscoverVersions', payload: [] }]))), 'text/xml');
  assert.equal(asXml.type, 'text/xml');
  assert.equal(batchResults(xmlToTtlv(asXml.body.toString()))[0]?.status, 'Success');
  const badXml = await https(port, pki, 'POST', '/kmip', Buffer.from('<RequestMessage><oops'), 'text/xml');
  assert.equal(batchResults(xmlToTtlv(badXml.body.toString()))[0]?.reason, 'InvalidMessage');
  assert.equal((await https(port, pki, 'POST', '/kmip', Buffer.from('{}'), 'image/png')).status, 415);
  assert.equal((await https(port, pki, 'GET', '/nope')).status, 404);
});
