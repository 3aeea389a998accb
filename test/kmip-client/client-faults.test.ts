/**
 * The client's transport against a misbehaving KMIP server: a small mutual-TLS server in this test
 * that reads real request messages (the project's codec) and then misbehaves on purpose — it closes
 * a connection on its second request, answers garbage, claims a huge response, or answers another
 * operation. What is checked is the client: retry of a stale pooled connection, no failover on a
 * bad answer, a size limit enforced from the header alone.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import type net from 'node:net';
import { KmipClient } from '../../src/kmip/client.js';
import { KmipClientError } from '../../src/kmip/client-errors.js';
import { decodeTtlv, encodeTtlv, readTtlvHeader, TTLV_HEADER_BYTES } from '../../src/kmip/ttlv.js';
import { encodeResponseMessage, parseRequestMessage, successItem } from '../../src/kmip/messages.js';
import { Operation } from '../../src/kmip/enums.js';
import { makeTestPki, startSilentTlsServer, type TestPki } from '../pykmip/server-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'cv-kmip-faults-'));
let pkiPromise: Promise<TestPki> | undefined;
const pki = (): Promise<TestPki> => (pkiPromise ??= makeTestPki(dir));
after(() => rmSync(dir, { recursive: true, force: true }));

type Behaviour = (requestNo: number, operation: number, socket: net.Socket) => void;

function answer(socket: net.Socket, operation: number): void {
  const resp = encodeResponseMessage({
    header: { protocolVersion: { major: 1, minor: 2 }, timeStamp: BigInt(Math.floor(Date.now() / 1000)) },
    batchItems: [successItem({ operation })],
  });
  socket.write(encodeTtlv(resp));
}

/** A mutual-TLS server that frames requests and lets `behave` answer the n-th one on each connection. */
async function faultServer(p: TestPki, behave: Behaviour) {
  const stats = { connections: 0, requests: 0 };
  const sockets = new Set<net.Socket>();
  const srv = tls.createServer(
    { cert: p.serverCert, key: p.serverKey, ca: p.ca, requestCert: true, rejectUnauthorized: true },
    (socket) => {
      stats.connections++;
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
      let buf = Buffer.alloc(0);
      let n = 0;
      socket.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        while (buf.length >= TTLV_HEADER_BYTES) {
          const total = TTLV_HEADER_BYTES + readTtlvHeader(buf).length;
          if (buf.length < total) return;
          const req = parseRequestMessage(decodeTtlv(buf.subarray(0, total)));
          buf = buf.subarray(total);
          stats.requests++;
          behave(++n, req.batchItems[0]!.operation, socket);
        }
      });
    },
  );
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  return {
    port,
    stats,
    stop: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}

function client(p: TestPki, ports: number[], extra: { poolSize?: number; timeoutMs?: number } = {}) {
  return new KmipClient({
    servers: ports.map((port) => ({ host: '127.0.0.1', port })),
    ca: p.ca,
    cert: p.clientCert,
    key: p.clientKey,
    timeoutMs: extra.timeoutMs ?? 3000,
    poolSize: extra.poolSize ?? 1,
  });
}

test('a pooled connection the server closes on its next request is retried once on a fresh one', async () => {
  const p = await pki();
  const srv = await faultServer(p, (n, op, socket) => (n === 1 ? answer(socket, op) : socket.destroy()));
  const c = client(p, [srv.port]);
  try {
    await c.activate('a');
    await c.activate('b'); // the reused connection dies; the retry's fresh connection answers
    assert.deepEqual(srv.stats, { connections: 2, requests: 3 });
    assert.deepEqual(c.openConnections(), [1]);
  } finally {
    c.close();
    await srv.stop();
  }
});

test('a first request whose connection dies is not retried on the same server, it fails over', async () => {
  const p = await pki();
  const dying = await faultServer(p, (_n, _op, socket) => socket.destroy());
  const good = await faultServer(p, (_n, op, socket) => answer(socket, op));
  const c = client(p, [dying.port, good.port]);
  try {
    await c.activate('a');
    assert.deepEqual(dying.stats, { connections: 1, requests: 1 });
    assert.deepEqual(good.stats, { connections: 1, requests: 1 });
    assert.equal(c.currentServer.port, good.port);
  } finally {
    c.close();
    await dying.stop();
    await good.stop();
  }
});

test('garbage, a huge claimed length and a wrong operation are response_invalid, with no failover', async () => {
  const p = await pki();
  const cases: [string, Behaviour][] = [
    ['garbage', (_n, _op, s) => s.write('HTTP/1.1 400 Bad Request\r\n\r\n')],
    ['huge', (_n, _op, s) => s.write(Buffer.from('42007b0100200000', 'hex'))], // claims 2 MiB, sends none
    ['wrong operation', (_n, _op, s) => answer(s, Operation.Destroy)],
  ];
  const witness = await faultServer(p, (_n, op, socket) => answer(socket, op));
  try {
    for (const [what, behave] of cases) {
      const srv = await faultServer(p, behave);
      const c = client(p, [srv.port, witness.port], { timeoutMs: 5000 });
      try {
        const t0 = Date.now();
        await assert.rejects(
          c.activate('a'),
          (e: unknown) => e instanceof KmipClientError && e.code === 'response_invalid',
          what,
        );
        assert.ok(Date.now() - t0 < 4000, `${what}: failed at once, not at the timeout`);
        // A stream out of step is dropped; a well-framed but wrong answer leaves it usable.
        if (what !== 'wrong operation') assert.deepEqual(c.openConnections(), [0, 0], `${what}: dropped`);
      } finally {
        c.close();
        await srv.stop();
      }
    }
    assert.equal(witness.stats.connections, 0, 'no failover on a bad answer');
  } finally {
    await witness.stop();
  }
});

test('requests queue for a free connection when the pool is full', async () => {
  const p = await pki();
  let inFlight = 0;
  let maxInFlight = 0;
  const srv = await faultServer(p, (_n, op, socket) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    setTimeout(() => {
      inFlight--;
      answer(socket, op);
    }, 20);
  });
  const c = client(p, [srv.port], { poolSize: 2 });
  try {
    await Promise.all(Array.from({ length: 10 }, (_v, i) => c.activate(String(i))));
    assert.equal(srv.stats.requests, 10);
    assert.equal(srv.stats.connections, 2);
    assert.equal(maxInFlight, 2);
  } finally {
    c.close();
    await srv.stop();
  }
});

test('a silent server: every queued request fails over once its connection times out', async () => {
  const p = await pki();
  const silent = await startSilentTlsServer(p);
  const good = await faultServer(p, (_n, op, socket) => answer(socket, op));
  const c = client(p, [silent.port, good.port], { poolSize: 1, timeoutMs: 300 });
  try {
    await Promise.all([c.activate('a'), c.activate('b'), c.activate('c')]);
    assert.equal(good.stats.requests, 3);
  } finally {
    c.close();
    await silent.stop();
    await good.stop();
  }
});
