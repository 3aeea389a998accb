/**
 * Key providers against our KMS over real mutual TLS: trust set up both ways (KMS CA uploaded;
 * center's CSR signed by the KMS's CA), status per server, failover to the next server, the
 * allowed KMIP operations under center's identity, RBAC, and no key bytes in center's database.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CenterClient, ProviderStatus } from '../../src/center/index.js';
import { signCsr } from '../../src/common/pki.js';
import { initKms, type InitKmsResult } from '../../src/kms/init.js';
import { startKms } from '../../src/kms/server.js';
import { ADMIN_PASSWORD, cv, startTestCenter, type TestCenter } from './harness.js';

/** A port that accepts TCP and then closes it: a KMIP server that is down. */
async function deadServer(): Promise<{ port: number; server: Server }> {
  const server = createServer((s) => s.destroy());
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  return { port: (server.address() as { port: number }).port, server };
}

describe('center key providers with our KMS', () => {
  let c: TestCenter;
  let admin: CenterClient;
  let kmsDir: string;
  let kmsInit: InitKmsResult;
  let kms: { port: number; close(): Promise<void> };
  let dead: { port: number; server: Server };
  before(async () => {
    kmsDir = await mkdtemp(join(tmpdir(), 'cv-center-kms-'));
    kmsInit = await initKms({ dataDir: kmsDir, sans: ['127.0.0.1', 'localhost'] });
    kms = await startKms({ dataDir: kmsDir, host: '127.0.0.1', port: 0, logLevel: 'silent' });
    dead = await deadServer();
    c = await startTestCenter();
    admin = await c.login('admin', ADMIN_PASSWORD);
  });
  after(async () => {
    await c?.close();
    await kms?.close();
    dead?.server.close();
    await rm(kmsDir, { recursive: true, force: true });
  });

  it('trust both ways through the CLI: add with the KMS CA, CSR signed by the KMS CA, then status', async () => {
    const login = await cv(
      ['login', c.running.url, '--user', 'admin', '--ca', c.init.ca, '--password-stdin'],
      { env: c.env, input: ADMIN_PASSWORD },
    );
    assert.equal(login.status, 0, login.stderr);
    const add = await cv(
      [
        'provider',
        'add',
        'kms1',
        '--server',
        `127.0.0.1:${dead.port}`,
        '--server',
        `127.0.0.1:${kms.port}`,
        '--ca',
        kmsInit.ca,
        '--json',
      ],
      { env: c.env },
    );
    assert.equal(add.status, 0, add.stderr + add.stdout);
    assert.equal(add.json<{ default: boolean }>().default, true, 'the first provider is the default');

    // center's own client certificate is not signed by the KMS's CA: the KMS refuses it.
    const before = await admin.call<ProviderStatus>('GET', '/api/v1/providers/kms1/status');
    assert.equal(before.servers[1]?.connected, false);

    const csrFile = join(c.dir, 'center.csr');
    const csr = await cv(['provider', 'trust', 'kms1', '--csr-out', csrFile], { env: c.env });
    assert.equal(csr.status, 0, csr.stderr);
    const certFile = join(c.dir, 'center-kms1.pem');
    await writeFile(
      certFile,
      await signCsr(kmsInit.pkiDir, await readFile(csrFile, 'utf8'), { kind: 'client' }),
    );
    const trust = await cv(['provider', 'trust', 'kms1', '--cert', certFile, '--json'], { env: c.env });
    assert.equal(trust.status, 0, trust.stderr + trust.stdout);
    assert.equal(trust.json<{ identity: string }>().identity, 'provider');

    const st = await cv(['provider', 'status', 'kms1', '--json'], { env: c.env });
    const status = st.json<ProviderStatus>();
    assert.equal(status.servers.length, 2);
    assert.equal(status.servers[0]?.connected, false, 'the dead server is reported');
    assert.equal(status.servers[1]?.connected, true, JSON.stringify(status.servers[1]));
    assert.ok((status.servers[1]?.daysLeft ?? 0) > 30);
    assert.ok(status.clientDaysLeft > 30);
  });

  it("the allowed KMIP operations work under center's identity, failing over past the dead server; the database holds no key bytes", async () => {
    const { provider, client } = await c.running.providers.client();
    assert.equal(provider.name, 'kms1');
    const id = await client.create({ algorithm: 'AES', length: 256, usageMask: ['Encrypt', 'Decrypt'] });
    await client.activate(id);
    const got = await client.get(id);
    const key = got.material;
    assert.ok(key, 'a key came back');
    assert.ok((await client.locate({ maxItems: 10 })).includes(id));
    assert.ok((await client.getAttributes(id)).length > 0);
    const hex = key.use((b) => Buffer.from(b).toString('hex'));
    const b64 = key.use((b) => Buffer.from(b).toString('base64'));
    const cells = (await c.running.store.dumpText()).join('\n');
    assert.ok(!cells.includes(hex) && !cells.includes(b64), "no KEK bytes in center's database");
    key.dispose();
    await client.revoke(id, 'CessationOfOperation');
    await client.destroy(id);
  });

  it('RBAC: Operator cannot add providers; Auditor may read them; the default can be moved and removal picks a new one', async () => {
    await admin.call('POST', '/api/v1/users', { name: 'op', role: 'Operator', password: 'operator-pass' });
    await admin.call('POST', '/api/v1/users', { name: 'aud', role: 'Auditor', password: 'auditor-pass' });
    const op = await c.login('op', 'operator-pass');
    const ca = await readFile(kmsInit.ca, 'utf8');
    await assert.rejects(op.call('POST', '/api/v1/providers', { name: 'evil', servers: '127.0.0.1:1', ca }), {
      code: 'permission_denied',
    });
    await assert.rejects(op.call('GET', '/api/v1/providers'), { code: 'permission_denied' });
    const aud = await c.login('aud', 'auditor-pass');
    assert.equal((await aud.call<{ name: string }[]>('GET', '/api/v1/providers'))[0]?.name, 'kms1');
    await assert.rejects(aud.call('PUT', '/api/v1/providers/kms1/default'), { code: 'permission_denied' });

    await assert.rejects(admin.call('POST', '/api/v1/providers', { name: 'bad', servers: 'nohost', ca }), {
      code: 'provider_invalid',
    });
    await assert.rejects(
      admin.call('POST', '/api/v1/providers', { name: 'bad', servers: '127.0.0.1:5696', ca: 'not a pem' }),
      { code: 'provider_invalid' },
    );
    await admin.call('POST', '/api/v1/providers', { name: 'kms2', servers: `127.0.0.1:${kms.port}`, ca });
    assert.equal(
      (await admin.call<{ default: boolean }>('PUT', '/api/v1/providers/kms2/default')).default,
      true,
    );
    assert.equal((await admin.call<{ default: boolean }>('GET', '/api/v1/providers/kms1')).default, false);
    await admin.call('DELETE', '/api/v1/providers/kms2');
    assert.equal((await admin.call<{ default: boolean }>('GET', '/api/v1/providers/kms1')).default, true);
    await assert.rejects(admin.call('GET', '/api/v1/providers/kms2'), { code: 'provider_not_found' });
  });
});
