/**
 * Our KMIP client against Debian's `pykmip-server` (python3-pykmip, auth_suite=TLS1.2): the
 * operations center uses, at KMIP 1.2, 2.0 and a negotiated version (the checks of
 * test/kmip-client/client-suite.ts, which also compare the key bytes with PyKMIP's own client);
 * failover across a cluster whose first server is down or silent; request timeouts; the pool.
 */
import { test, after } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KmipClient, type KmipClientOptions } from '../../src/kmip/client.js';
import { KmipClientError, KmipOperationError } from '../../src/kmip/client-errors.js';
import { isKmipError } from '../../src/kmip/errors.js';
import { needPeers } from '../support/peers.js';
import {
  SUITE_VERSIONS,
  checkCompromise,
  checkLifecycle,
  checkSecretData,
  stateOf,
} from '../kmip-client/client-suite.js';
import {
  startPykmipServer,
  startSilentTlsServer,
  startMuteTcpServer,
  freePort,
  makeTestPki,
  type PykmipServer,
  type TestPki,
} from './server-harness.js';

let serverPromise: Promise<PykmipServer> | undefined;
function server(): Promise<PykmipServer> {
  serverPromise ??= startPykmipServer();
  return serverPromise;
}
/** One PKI for the tests that need no PyKMIP (RSA key generation is the slow part). */
let localPkiDir: string | undefined;
let localPkiPromise: Promise<TestPki> | undefined;
function localPki(): Promise<TestPki> {
  localPkiDir ??= mkdtempSync(join(tmpdir(), 'cv-kmip-pki-'));
  localPkiPromise ??= makeTestPki(localPkiDir);
  return localPkiPromise;
}
after(async () => {
  if (serverPromise) await (await serverPromise).stop();
  if (localPkiDir) rmSync(localPkiDir, { recursive: true, force: true });
});

function peers(t: TestContext): boolean {
  return needPeers(t, '/usr/bin/pykmip-server', 'py:kmip');
}

function clientFor(s: PykmipServer, extra: Partial<KmipClientOptions> = {}): KmipClient {
  return new KmipClient({
    servers: [{ host: s.host, port: s.port }],
    ca: s.pki.ca,
    cert: s.pki.clientCert,
    key: s.pki.clientKey,
    timeoutMs: 5000,
    ...extra,
  });
}

for (const { version, label } of SUITE_VERSIONS) {
  test(`pykmip-server, ${label}: create, activate, get, revoke, destroy`, async (t) => {
    if (!peers(t)) return;
    const s = await server();
    const c = clientFor(s, { protocolVersion: version });
    try {
      await checkLifecycle(c, `cv-kek-${label.replace(/\W+/g, '-')}`, {
        destroyActiveCodes: ['permission_denied'],
        ...(version === 'negotiate' ? { negotiated: { major: 2, minor: 0 } } : {}),
        pykmipClient: {
          host: s.host,
          port: s.port,
          ca: s.pki.paths.ca,
          cert: s.pki.paths.clientCert,
          key: s.pki.paths.clientKey,
        },
      });
    } finally {
      c.close();
    }
  });
}

test('pykmip-server: Secret Data registered and read back', async (t) => {
  if (!peers(t)) return;
  const s = await server();
  const c = clientFor(s);
  try {
    await checkSecretData(c, 'cv-escrow-1');
  } finally {
    c.close();
  }
});

test('pykmip-server: a key revoked for compromise is Compromised, then destroyed', async (t) => {
  if (!peers(t)) return;
  const s = await server();
  const c = clientFor(s);
  try {
    await checkCompromise(c);
  } finally {
    c.close();
  }
});

test('pykmip-server: DiscoverVersions and Query', async (t) => {
  if (!peers(t)) return;
  const s = await server();
  const c = clientFor(s);
  try {
    const versions = await c.discoverVersions();
    assert.deepEqual(versions[0], { major: 2, minor: 0 });
    assert.ok(versions.some((v) => v.major === 1 && v.minor === 2));
    const q = await c.query();
    for (const op of ['Create', 'Get', 'Activate', 'Revoke', 'Destroy', 'Locate', 'GetAttributes'])
      assert.ok(q.operations.includes(op), op);
    assert.match(q.vendorIdentification ?? '', /PyKMIP/);
  } finally {
    c.close();
  }
});

test('pykmip-server: an unknown object is a KmipError with the Result Reason, not a failover', async (t) => {
  if (!peers(t)) return;
  const s = await server();
  const down = await freePort();
  const c = new KmipClient({
    servers: [
      { host: s.host, port: s.port },
      { host: '127.0.0.1', port: down },
    ],
    ca: s.pki.ca,
    cert: s.pki.clientCert,
    key: s.pki.clientKey,
    timeoutMs: 5000,
  });
  try {
    await assert.rejects(c.activate('no-such-object-42'), (e: unknown) => {
      assert.ok(e instanceof KmipOperationError, String(e));
      assert.ok(isKmipError(e, 'item_not_found'), `code ${(e as KmipOperationError).code}`);
      assert.equal(e.kind, 'not_found');
      return true;
    });
    assert.equal(c.currentServer.port, s.port);
  } finally {
    c.close();
  }
});

test('failover: the first server is down, requests succeed on the second', async (t) => {
  if (!peers(t)) return;
  const s = await server();
  const down = await freePort();
  const c = new KmipClient({
    servers: [
      { host: '127.0.0.1', port: down },
      { host: s.host, port: s.port },
    ],
    ca: s.pki.ca,
    cert: s.pki.clientCert,
    key: s.pki.clientKey,
    timeoutMs: 3000,
  });
  try {
    const id = await c.create({ algorithm: 'AES', length: 256, usageMask: ['Encrypt', 'Decrypt'] });
    assert.equal(c.currentServer.port, s.port, 'the client moved to the second server');
    await c.activate(id);
    assert.equal(await stateOf(c, id), 2);
    assert.deepEqual(c.openConnections(), [0, 1], 'one pooled connection, reused, on the second server');
  } finally {
    c.close();
  }
});

test('failover: the first server accepts but never answers (timeout), the second answers', async (t) => {
  if (!peers(t)) return;
  const s = await server();
  const silent = await startSilentTlsServer(s.pki);
  const c = new KmipClient({
    servers: [
      { host: '127.0.0.1', port: silent.port },
      { host: s.host, port: s.port },
    ],
    ca: s.pki.ca,
    cert: s.pki.clientCert,
    key: s.pki.clientKey,
    timeoutMs: 800,
  });
  try {
    const t0 = Date.now();
    const id = await c.create({ algorithm: 'AES', length: 128, usageMask: ['Encrypt', 'Decrypt'] });
    assert.ok(Date.now() - t0 >= 700, 'the first server was waited for until the timeout');
    assert.equal(silent.accepted(), 1, 'the silent server had the first connection');
    assert.equal(c.currentServer.port, s.port);
    assert.deepEqual(c.openConnections(), [0, 1], 'the timed-out connection was destroyed');
    assert.ok(id.length > 0);
  } finally {
    c.close();
    await silent.stop();
  }
});

test('timeout: a server that completes TLS but never answers', async () => {
  const pki = await localPki();
  const silent = await startSilentTlsServer(pki);
  const c = new KmipClient({
    servers: [{ host: '127.0.0.1', port: silent.port }],
    ca: pki.ca,
    cert: pki.clientCert,
    key: pki.clientKey,
    timeoutMs: 300,
  });
  try {
    const t0 = Date.now();
    await assert.rejects(
      c.activate('1'),
      (e: unknown) => e instanceof KmipClientError && e.code === 'timeout' && e.kind === 'unavailable',
    );
    const took = Date.now() - t0;
    assert.ok(took >= 250 && took < 3000, `took ${took} ms`);
    assert.deepEqual(c.openConnections(), [0]);
  } finally {
    c.close();
    await silent.stop();
  }
});

test('timeout: a TCP server that never completes the TLS handshake', async () => {
  const pki = await localPki();
  const mute = await startMuteTcpServer();
  const c = new KmipClient({
    servers: [{ host: '127.0.0.1', port: mute.port }],
    ca: pki.ca,
    cert: pki.clientCert,
    key: pki.clientKey,
    timeoutMs: 300,
  });
  try {
    await assert.rejects(
      c.activate('1'),
      (e: unknown) => e instanceof KmipClientError && e.code === 'timeout',
    );
  } finally {
    c.close();
    await mute.stop();
  }
});

test('every server down: unavailable, naming each server', async () => {
  const pki = await localPki();
  const [p1, p2] = [await freePort(), await freePort()];
  const c = new KmipClient({
    servers: [
      { host: '127.0.0.1', port: p1 },
      { host: '127.0.0.1', port: p2 },
    ],
    ca: pki.ca,
    cert: pki.clientCert,
    key: pki.clientKey,
    timeoutMs: 1000,
  });
  try {
    await assert.rejects(c.create({ algorithm: 'AES', length: 256, usageMask: 12 }), (e: unknown) => {
      assert.ok(e instanceof KmipClientError);
      assert.equal(e.code, 'unavailable');
      assert.ok(e.message.includes(`127.0.0.1:${p1}`) && e.message.includes(`127.0.0.1:${p2}`), e.message);
      return true;
    });
  } finally {
    c.close();
  }
});

test('pykmip-server: a client certificate from another CA is refused (tls_failed)', async (t) => {
  if (!peers(t)) return;
  const s = await server();
  const dir = mkdtempSync(join(tmpdir(), 'cv-kmip-otherca-'));
  try {
    const other = await makeTestPki(dir);
    const c = new KmipClient({
      servers: [{ host: s.host, port: s.port }],
      ca: s.pki.ca,
      cert: other.clientCert,
      key: other.clientKey,
      timeoutMs: 3000,
    });
    try {
      await assert.rejects(
        c.activate('1'),
        (e: unknown) => e instanceof KmipClientError && ['tls_failed', 'connection_closed'].includes(e.code),
      );
    } finally {
      c.close();
    }
    // And a server certificate the client does not trust.
    const c2 = new KmipClient({
      servers: [{ host: s.host, port: s.port }],
      ca: other.ca,
      cert: s.pki.clientCert,
      key: s.pki.clientKey,
      timeoutMs: 3000,
    });
    try {
      await assert.rejects(
        c2.activate('1'),
        (e: unknown) => e instanceof KmipClientError && e.code === 'tls_failed',
      );
    } finally {
      c2.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pykmip-server: concurrent requests share a bounded pool', async (t) => {
  if (!peers(t)) return;
  const s = await server();
  const c = clientFor(s, { poolSize: 3 });
  try {
    const id = await c.create({ algorithm: 'AES', length: 256, usageMask: ['Encrypt', 'Decrypt'] });
    await c.activate(id);
    const results = await Promise.all(Array.from({ length: 12 }, () => c.getAttributes(id, ['State'])));
    assert.equal(results.length, 12);
    for (const r of results) assert.deepEqual(r[0]?.value, { tag: 0x42000b, type: 'Enumeration', value: 2 });
    const open = c.openConnections()[0]!;
    assert.ok(open >= 1 && open <= 3, `open connections: ${open}`);
  } finally {
    c.close();
  }
});

test('pykmip-server: idle pooled connections do not keep a process alive', async (t) => {
  if (!peers(t)) return;
  const s = await server();
  // A child process that queries and never closes its client must still exit on its own.
  const clientModule = new URL('../../src/kmip/client.js', import.meta.url).href;
  const script = `
    import { KmipClient } from ${JSON.stringify(clientModule)};
    const [host, port, ca, cert, key] = JSON.parse(process.argv[1]);
    const c = new KmipClient({ servers: [{ host, port }], ca, cert, key, timeoutMs: 5000 });
    const q = await c.query(['QueryOperations']);
    console.log(q.operations.length);
  `;
  const args = JSON.stringify([s.host, s.port, s.pki.ca, s.pki.clientCert, s.pki.clientKey]);
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, args], {
    encoding: 'utf8',
    timeout: 15_000,
  });
  assert.equal(r.signal, null, 'the process exited by itself (not killed at the timeout)');
  assert.equal(r.status, 0, r.stderr);
  assert.ok(Number(r.stdout.trim()) > 5);
});
