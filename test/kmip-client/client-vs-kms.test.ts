/**
 * Our KMIP client against the project's own KMS (`startKms`, over mutual TLS on a free port): the
 * same checks as against PyKMIP's server (client-suite.ts), at KMIP 1.2, 2.0 and a negotiated
 * version; pooled connections the server closes while idle; failover from a down node.
 */
import { test, after } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KmipClient, type KmipClientOptions } from '../../src/kmip/client.js';
import { initKms } from '../../src/kms/init.js';
import { startKms, type RunningKms } from '../../src/kms/server.js';
import { IN_CI, havePeer, needPeers } from '../support/peers.js';
import { freePort } from '../pykmip/server-harness.js';
import { SUITE_VERSIONS, checkCompromise, checkLifecycle, checkSecretData, stateOf } from './client-suite.js';

interface Kms {
  readonly running: RunningKms;
  readonly dir: string;
  readonly paths: { ca: string; cert: string; key: string };
  readonly pem: { ca: string; cert: string; key: string };
}

let kmsPromise: Promise<Kms> | undefined;
function kms(): Promise<Kms> {
  kmsPromise ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cv-kms-client-'));
    const init = await initKms({ dataDir: dir, sans: ['127.0.0.1', 'localhost'] });
    // A short idle timeout, so that the pool meets connections the server closed.
    const running = await startKms({
      dataDir: dir,
      host: '127.0.0.1',
      port: 0,
      logLevel: 'silent',
      idleTimeoutMs: 300,
    });
    const paths = { ca: init.ca, cert: init.adminCert, key: init.adminKey };
    const [ca, cert, key] = await Promise.all([
      readFile(paths.ca, 'utf8'),
      readFile(paths.cert, 'utf8'),
      readFile(paths.key, 'utf8'),
    ]);
    return { running, dir, paths, pem: { ca, cert, key } };
  })();
  return kmsPromise;
}
after(async () => {
  if (!kmsPromise) return;
  const k = await kmsPromise;
  await k.running.close();
  await rm(k.dir, { recursive: true, force: true });
});

function clientFor(k: Kms, extra: Partial<KmipClientOptions> = {}): KmipClient {
  return new KmipClient({
    servers: [{ host: '127.0.0.1', port: k.running.port }],
    ...k.pem,
    timeoutMs: 5000,
    ...extra,
  });
}

for (const { version, label } of SUITE_VERSIONS) {
  test(`our KMS, ${label}: create, activate, get, revoke, destroy`, async (t: TestContext) => {
    const k = await kms();
    const c = clientFor(k, { protocolVersion: version });
    try {
      // PyKMIP's client is an extra cross-check of the key bytes (once), not what this test is about.
      const withPyKmip = label === 'KMIP 1.2' && (havePeer('py:kmip') || (IN_CI && needPeers(t, 'py:kmip')));
      await checkLifecycle(c, `cv-kek-${label.replace(/\W+/g, '-')}`, {
        destroyActiveCodes: ['permission_denied', 'wrong_key_lifecycle_state'],
        ...(version === 'negotiate' ? { negotiated: { major: 2, minor: 1 } } : {}),
        ...(withPyKmip ? { pykmipClient: { host: '127.0.0.1', port: k.running.port, ...k.paths } } : {}),
      });
    } finally {
      c.close();
    }
  });
}

test('our KMS: Secret Data registered and read back', async () => {
  const k = await kms();
  const c = clientFor(k);
  try {
    await checkSecretData(c, 'cv-escrow-kms');
  } finally {
    c.close();
  }
});

test('our KMS: a key revoked for compromise is Compromised, then destroyed', async () => {
  const k = await kms();
  const c = clientFor(k);
  try {
    await checkCompromise(c);
  } finally {
    c.close();
  }
});

test('our KMS: pooled connections the server closed while idle are replaced', async () => {
  const k = await kms();
  const c = clientFor(k, { poolSize: 2 });
  try {
    const id = await c.create({ algorithm: 'AES', length: 256, usageMask: ['Encrypt', 'Decrypt'] });
    await Promise.all([c.activate(id), c.getAttributes(id)]);
    assert.deepEqual(c.openConnections(), [2], 'two requests at once opened a second connection');
    await new Promise((r) => setTimeout(r, 700)); // past the server's 300 ms idle timeout
    assert.equal(await stateOf(c, id), 2);
    assert.deepEqual(c.openConnections(), [1], 'both closed connections were dropped, one fresh one opened');
  } finally {
    c.close();
  }
});

test('our KMS: failover from a node that is down', async () => {
  const k = await kms();
  const down = await freePort();
  const c = new KmipClient({
    servers: [
      { host: '127.0.0.1', port: down },
      { host: '127.0.0.1', port: k.running.port },
    ],
    ...k.pem,
    timeoutMs: 3000,
  });
  try {
    const id = await c.create({ algorithm: 'AES', length: 128, usageMask: ['Encrypt', 'Decrypt'] });
    assert.equal(c.currentServer.port, k.running.port);
    await c.activate(id);
    const versions = await c.discoverVersions();
    assert.deepEqual(versions[0], { major: 2, minor: 1 });
  } finally {
    c.close();
  }
});
