import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { nativePunchHole, nativeSendSome, setSendBuffer } from './sys-addon.js';

function acceptedSocket(): Promise<{ sock: Socket; done: () => void }> {
  return new Promise((resolve) => {
    const srv = createServer((sock) =>
      resolve({
        sock,
        done: () => {
          sock.destroy();
          client.destroy();
          srv.close();
        },
      }),
    );
    let client: Socket;
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      client = connect(typeof a === 'object' && a !== null ? a.port : 0, '127.0.0.1');
      client.on('error', () => undefined);
    });
  });
}

test('setSendBuffer raises an accepted socket\'s SO_SNDBUF (capped by net.core.wmem_max); a closed one gives null', async (t) => {
  if (nativePunchHole() === null) {
    if (process.env['CI'] === 'true') assert.fail('the system-call addon is not built');
    t.skip('the system-call addon is not built (npm install builds it)');
    return;
  }
  const wmemMax = Number(readFileSync('/proc/sys/net/core/wmem_max', 'utf8'));
  const { sock, done } = await acceptedSocket();
  try {
    const got = setSendBuffer(sock, 1024 * 1024);
    assert.ok(got !== null && got >= Math.min(1024 * 1024, wmemMax), `SO_SNDBUF ${got}`);
  } finally {
    done();
  }
  await new Promise((r) => setImmediate(r));
  assert.equal(setSendBuffer(sock, 1024 * 1024), null);
});

/** libuv's descriptor of a connected socket (Node has no public accessor). */
function fdOf(sock: Socket): number {
  return (sock as unknown as { _handle: { fd: number } })._handle.fd;
}

test('sendSome sends without blocking: all it can, 0 once the socket is full, -errno once the peer is gone', async (t) => {
  const send = nativeSendSome();
  if (send === null) {
    if (process.env['CI'] === 'true') assert.fail('the system-call addon is not built');
    t.skip('the system-call addon is not built (npm install builds it)');
    return;
  }
  const { sock, done } = await acceptedSocket();
  const fd = fdOf(sock);
  // Node's own reading would race the test for the bytes; the client side is not read at all.
  sock.pause();
  try {
    const buf = Buffer.alloc(65536, 7);
    assert.equal(send(fd, buf, 16), 16);
    let total = 16;
    let last = -1;
    for (let i = 0; i < 10_000 && last !== 0; i++) {
      last = send(fd, buf, buf.length);
      assert.ok(last >= 0, `send returned ${last}`);
      total += last;
    }
    assert.equal(last, 0, `the socket filled up after ${total} bytes`);
    assert.throws(() => send(fd, buf, buf.length + 1), /length within it/);
  } finally {
    done();
  }
  // A Unix socket whose peer has closed: -EPIPE.
  const dir = mkdtempSync(join(tmpdir(), 'cv-send-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 's.sock');
  // Half-open allowed, so that Node keeps the descriptor open when it reads the peer's EOF.
  const srv = createServer({ allowHalfOpen: true });
  const accepted = new Promise<Socket>((resolve) => srv.once('connection', resolve));
  await new Promise<void>((resolve) => srv.listen(path, resolve));
  const client = connect(path);
  const server = await accepted;
  server.pause();
  try {
    const sfd = fdOf(server);
    client.destroy();
    let r = 0;
    for (let i = 0; i < 100 && r >= 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      r = send(sfd, Buffer.alloc(16), 16);
    }
    assert.equal(r, -32, 'EPIPE');
  } finally {
    server.destroy();
    srv.close();
  }
});
