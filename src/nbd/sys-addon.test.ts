import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { nativePunchHole, setSendBuffer } from './sys-addon.js';

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
