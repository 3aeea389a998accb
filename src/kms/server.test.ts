import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { Tag, child, decodeTtlv, encodeTtlv } from '../kmip/index.js';
import { issueCertificate } from '../common/pki.js';
import { initKms } from './init.js';
import { startKms } from './server.js';
import { aesCreate, batchResults, request, uid } from './test-harness.js';
import { needPg } from '../../test/support/peers.js';

async function tmp(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'cv-kms-server-'));
  t.after(() => rm(d, { recursive: true, force: true }));
  return d;
}

async function client(port: number, pki: string, name: string): Promise<(msg: Uint8Array) => Promise<ReturnType<typeof decodeTtlv>>> {
  const s: TLSSocket = await new Promise((resolve, reject) => {
    const c = connect({ host: '127.0.0.1', port, servername: 'localhost', ca: readFileSyncText(join(pki, 'ca.pem')), key: readFileSyncText(join(pki, `${name}.key`)), cert: readFileSyncText(join(pki, `${name}.pem`)) });
    c.once('secureConnect', () => resolve(c));
    c.once('error', reject);
  });
  let buf = Buffer.alloc(0);
  let waiting: ((b: Buffer) => void) | undefined;
  s.on('data', (c: Buffer) => {
    buf = Buffer.concat([buf, c]);
    if (buf.length >= 8 && buf.length >= 8 + buf.readUInt32BE(4) && waiting) {
      const n = 8 + buf.readUInt32BE(4);
      const m = buf.subarray(0, n);
      buf = buf.subarray(n);
      const w = waiting;
      waiting = undefined;
      w(m);
    }
  });
  clients.push(s);
  return (msg) =>
    new Promise((resolve) => {
      waiting = (b) => resolve(decodeTtlv(b));
      s.write(msg);
    });
}
const clients: TLSSocket[] = [];

import { readFileSync } from 'node:fs';
function readFileSyncText(f: string): string {
  return readFileSync(f, 'utf8');
}

test('kms init: root key 0600, PKI, refuses a second init; --join shares the root key and CA', async (t) => {
  const d = await tmp(t);
  const a = join(d, 'a');
  const r = await initKms({ dataDir: a });
  assert.equal((await stat(join(a, 'root.key'))).mode & 0o777, 0o600);
  for (const f of ['ca.pem', 'ca.key', 'server.pem', 'server.key', 'admin.pem', 'admin.key']) assert.ok((await stat(join(r.pkiDir, f))).isFile(), f);
  await assert.rejects(initKms({ dataDir: a }), { code: 'file_exists' });
  const b = join(d, 'b');
  await initKms({ dataDir: b, join: a });
  assert.deepEqual(await readFile(join(b, 'root.key')), await readFile(join(a, 'root.key')));
  assert.deepEqual(await readFile(join(b, 'pki', 'ca.pem')), await readFile(join(a, 'pki', 'ca.pem')));
  assert.notDeepEqual(await readFile(join(b, 'pki', 'server.pem')), await readFile(join(a, 'pki', 'server.pem')));
});

test('startKms: a data dir served on a free port; admin sees all; others only their own', async (t) => {
  // Not tmp(t): after-hooks run in the order they were added, and the KMS must close (its last
  // audit records committed and synced) before its directory is removed.
  const d = await mkdtemp(join(tmpdir(), 'cv-kms-server-'));
  const running: { kms?: Awaited<ReturnType<typeof startKms>> } = {};
  t.after(async () => {
    for (const c of clients) c.destroy();
    await running.kms?.close();
    await rm(d, { recursive: true, force: true });
  });
  const { pkiDir } = await initKms({ dataDir: d });
  await issueCertificate(pkiDir, 'alice', { kind: 'client' });
  await issueCertificate(pkiDir, 'bob', { kind: 'client' });
  const kms = await startKms({ dataDir: d, host: '127.0.0.1', port: 0, logLevel: 'silent' });
  running.kms = kms;
  assert.ok(kms.port > 0);
  const alice = await client(kms.port, pkiDir, 'alice');
  const bob = await client(kms.port, pkiDir, 'bob');
  const admin = await client(kms.port, pkiDir, 'admin');
  const created = batchResults(await alice(encodeTtlv(request('1.1', [{ operation: 'Create', payload: aesCreate() }]))))[0];
  const id = String(child(created?.payload as never, Tag.UniqueIdentifier)?.value);
  const get = (who: typeof alice) => who(encodeTtlv(request('1.1', [{ operation: 'Get', payload: [uid(id)] }]))).then((r) => batchResults(r)[0]);
  assert.equal((await get(alice))?.status, 'Success');
  assert.equal((await get(bob))?.reason, 'ItemNotFound');
  assert.equal((await get(admin))?.status, 'Success');
  const audit = await kms.store.listAudit();
  assert.ok(audit.some((r) => r.operation === 'Create' && r.identity === 'CN=alice' && r.objectId === id));
});

test('two nodes on one PostgreSQL serve the same objects (kms init --join)', async (t) => {
  const url = needPg(t);
  if (!url) return;
  const d = await tmp(t);
  const database = `${url}${url.includes('?') ? '&' : '?'}schema=cv_kms_join_${process.pid}_${Date.now()}`;
  const a = join(d, 'a');
  const b = join(d, 'b');
  const { pkiDir } = await initKms({ dataDir: a, database });
  await initKms({ dataDir: b, join: a, database });
  await issueCertificate(pkiDir, 'carol', { kind: 'client' });
  const kmsA = await startKms({ dataDir: a, host: '127.0.0.1', port: 0, logLevel: 'silent' });
  const kmsB = await startKms({ dataDir: b, host: '127.0.0.1', port: 0, httpsPort: 0, logLevel: 'silent' });
  t.after(async () => {
    for (const c of clients) c.destroy();
    await kmsA.close();
    await kmsB.close();
  });
  assert.equal(kmsA.store.kind, 'postgres');
  const onA = await client(kmsA.port, pkiDir, 'carol');
  const onB = await client(kmsB.port, pkiDir, 'carol');
  const created = batchResults(await onA(encodeTtlv(request('2.0', [{ operation: 'Create', payload: aesCreate() }]))))[0];
  const id = String(child(created?.payload as never, Tag.UniqueIdentifier)?.value);
  const got = batchResults(await onB(encodeTtlv(request('2.0', [{ operation: 'Get', payload: [uid(id)] }]))))[0];
  assert.equal(got?.status, 'Success');
  assert.ok(kmsB.httpsPort !== undefined && kmsB.httpsPort > 0, 'the HTTPS-only listener is up');
});
