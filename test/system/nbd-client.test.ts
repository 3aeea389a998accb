/**
 * The minimal NBD client of `cryptvisor demo` (src/cli/demo-nbd.ts) against a real NBD server,
 * nbdkit's memory plugin on a Unix socket; what it writes is read back with libnbd's nbdsh.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NbdConnection, guestDiskIo, parseNbdUnixUri } from '../../src/cli/demo-nbd.js';
import { PYTHON, needPeers } from '../support/peers.js';
import { prng } from '../support/cli.js';

async function waitFor(check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

test(
  'demo NBD client: writes and reads nbdkit memory; nbdsh sees the same bytes',
  { timeout: 60_000 },
  async (t) => {
    if (!needPeers(t, 'nbdkit', 'py:nbd')) return;
    const dir = mkdtempSync(join(tmpdir(), 'cv-nbdc-'));
    const sock = join(dir, 'nbd.sock');
    const server = spawn('nbdkit', ['-f', '-U', sock, 'memory', '1M'], { stdio: 'ignore' });
    t.after(() => {
      server.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    });
    await waitFor(() => existsSync(sock), 10_000);
    const uri = `nbd+unix:///?socket=${sock}`;
    assert.deepEqual(parseNbdUnixUri(uri), { socket: sock, exportName: '' });

    const rand = prng(6);
    const data = Buffer.from(Array.from({ length: 8192 }, () => Math.floor(rand() * 256)));
    const c = await NbdConnection.open(uri);
    try {
      assert.equal(c.size, 1048576n);
      await c.write(4096, data);
      assert.ok((await c.read(4096, 8192)).equals(data));
      assert.ok((await c.read(0, 4096)).equals(Buffer.alloc(4096)), 'untouched bytes read as zeros');
    } finally {
      c.close();
    }
    const r = spawnSync(
      PYTHON,
      ['-m', 'nbd', '-u', uri, '-c', 'import sys; sys.stdout.buffer.write(h.pread(8192, 4096))'],
      { maxBuffer: 1 << 20 },
    );
    assert.equal(r.status, 0, r.stderr.toString());
    assert.ok(r.stdout.equals(data), 'nbdsh reads what the client wrote');

    // The demo's chooser (nbdsh here) reads the same bytes.
    const io = guestDiskIo();
    assert.match(io.client, /nbdsh/);
    assert.ok((await io.read(uri, 4096, 8192)).equals(data));
  },
);

test('demo NBD client: an unknown export is refused with a clear error', { timeout: 60_000 }, async (t) => {
  if (!needPeers(t, 'nbdkit')) return;
  const dir = mkdtempSync(join(tmpdir(), 'cv-nbdc-'));
  const sock = join(dir, 'nbd.sock');
  // nbdkit serves one export; naming another one must fail in the handshake.
  const server = spawn(
    'nbdkit',
    ['-f', '-U', sock, '--filter=exportname', 'memory', '1M', 'exportname=only', 'exportname-strict=true'],
    { stdio: 'ignore' },
  );
  t.after(() => {
    server.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  await waitFor(() => existsSync(sock), 10_000);
  await assert.rejects(NbdConnection.open(`nbd+unix:///other?socket=${sock}`), {
    code: 'demo_failed',
    message: /refused export "other"/,
  });
  const ok = await NbdConnection.open(`nbd+unix:///only?socket=${sock}`);
  ok.close();
  assert.throws(() => parseNbdUnixUri('nbd://127.0.0.1/x'), { code: 'demo_failed' });
});
