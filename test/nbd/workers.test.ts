/**
 * Transmission workers (src/nbd/transmission-pool.ts): plain-socket connections are served in
 * worker threads, over the same descriptor and key, with write locks shared across threads; TLS
 * connections and devices that cannot be described stay on the main thread; worker log records
 * reach the server's logger; close() leaves no worker holding the device or its key.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { AlignedDevice, EncryptedDevice, EngineXtsCipher, FileDevice, NbdServer, NodeXtsCipher } from '../../src/nbd/index.js';
import { configuredWorkers, transmissionPool } from '../../src/nbd/transmission-pool.js';
import { RawClient, REQUEST_MAGIC } from './raw-client.js';
import { randomXtsKey, serve, tempDir } from './harness.js';

const MiB = 1024 * 1024;

async function connect(socket: string): Promise<RawClient> {
  const c = await RawClient.open(socket);
  await c.greet();
  await c.go();
  return c;
}

/** A logger whose records are kept, parsed, in `lines`. */
function capturedLogger(level: string): { lines: Record<string, unknown>[]; logger: Logger } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb): void {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, logger: pino({ level }, sink) };
}

/** An empty (sparse) image of `size` bytes in a fresh directory. */
function sparseImage(t: TestContext, size: number): { dir: string; image: string } {
  const dir = tempDir(t);
  const image = join(dir, 'd.img');
  writeFileSync(image, '');
  truncateSync(image, size);
  return { dir, image };
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), 'condition not reached in 5 s');
}

test('CRYPTVISOR_NBD_WORKERS sets the pool size; bad values are refused', () => {
  assert.equal(configuredWorkers({ CRYPTVISOR_NBD_WORKERS: '0' }), 0);
  assert.equal(configuredWorkers({ CRYPTVISOR_NBD_WORKERS: '3' }), 3);
  assert.ok(configuredWorkers({}) >= 1 && configuredWorkers({}) <= 4);
  for (const bad of ['-1', 'two', '1.5', '65']) {
    assert.throws(() => configuredWorkers({ CRYPTVISOR_NBD_WORKERS: bad }), /CRYPTVISOR_NBD_WORKERS must be an integer/);
  }
});

test('connections are served by workers; what one writes, another reads, and the device has it', async (t) => {
  const s = await serve(t, 'encrypted', { size: 4 * MiB });
  const data = randomBytes(256 * 1024);
  const [a, b] = await Promise.all([connect(s.socket), connect(s.socket)]);
  a.request(1, 65536n, data.length, 1n, { data });
  assert.equal((await a.simpleReply()).error, 0);
  b.request(0, 65536n, data.length, 2n);
  assert.equal((await b.simpleReply()).error, 0);
  assert.ok((await b.read(data.length)).equals(data), 'read on another connection');
  assert.ok((await s.device.read(65536, data.length)).equals(data), 'the main thread sees the write');
  assert.equal(s.server.workerHandoffs, 2);
  assert.equal(transmissionPool()?.connectionCount, 2);
  a.close();
  b.close();
  await until(() => s.server.connectionCount === 0);
});

test('unaligned writes into shared sectors from many connections in different workers lose nothing', async (t) => {
  // Each 4096-byte sector gets one 512-byte piece from each of 8 connections: every write is a
  // read-modify-write of the same sector, from up to four threads. Without write locks shared
  // across threads, concurrent read-modify-writes would drop pieces.
  const s = await serve(t, 'encrypted', { size: MiB });
  const clients = await Promise.all(Array.from({ length: 8 }, () => connect(s.socket)));
  const sectors = 32;
  const expected = randomBytes(sectors * 4096);
  await Promise.all(
    clients.map(async (c, k) => {
      for (let sec = 0; sec < sectors; sec++) {
        const off = sec * 4096 + k * 512;
        c.request(1, BigInt(off), 512, BigInt(sec), { data: expected.subarray(off, off + 512) });
      }
      for (let sec = 0; sec < sectors; sec++) assert.equal((await c.simpleReply()).error, 0);
    }),
  );
  assert.ok(s.server.workerHandoffs >= 8);
  assert.ok((await s.device.read(0, expected.length)).equals(expected), 'every piece of every sector is there');
  for (const c of clients) c.close();
});

test('close() waits for worker connections, then the workers drop the device and its key copy', async (t) => {
  const { dir, image } = sparseImage(t, 2 * MiB);
  const file = await FileDevice.open(image);
  const device = new AlignedDevice(new EncryptedDevice(file, new EngineXtsCipher(randomXtsKey())));
  t.after(() => device.close());
  const server = new NbdServer({ exports: [{ name: '', device }] });
  await server.listenUnix(join(dir, 's.sock'));
  const pool = transmissionPool();
  assert.ok(pool !== null);
  const remote = pool.register(device);
  assert.ok(remote !== null);
  const key = new Uint8Array(remote.described.portable.crypt?.key ?? new SharedArrayBuffer(0));
  await pool.release(remote); // only the server's own registration is left
  assert.ok(key.some((b) => b !== 0), 'the key copy lives while the server does');
  const c = await connect(join(dir, 's.sock'));
  c.request(1, 0n, 4096, 1n, { data: Buffer.alloc(4096, 7) });
  assert.equal((await c.simpleReply()).error, 0);
  await server.close();
  await c.closed;
  assert.equal(server.connectionCount, 0);
  assert.ok(key.every((b) => b === 0), 'the key copy is zeroed once the workers have dropped the device');
  assert.ok((await device.read(0, 4096)).equals(Buffer.alloc(4096, 7)), 'the owner still has its device');
});

test('worker log records reach the server logger, with the connection binding', async (t) => {
  const { lines, logger } = capturedLogger('debug');
  const { dir, image } = sparseImage(t, MiB);
  const dev = await FileDevice.open(image);
  t.after(() => dev.close());
  const server = new NbdServer({ exports: [{ name: '', device: dev }], logger });
  await server.listenUnix(join(dir, 's.sock'));
  const c = await connect(join(dir, 's.sock'));
  c.request(0, 0n, 512, 1n, { magic: REQUEST_MAGIC ^ 1 });
  await c.closed;
  await server.close();
  assert.equal(server.workerHandoffs, 1);
  const warn = lines.find((l) => l['msg'] === 'bad request magic; closing the connection');
  assert.ok(warn !== undefined, 'the worker warning was relayed');
  assert.equal(warn['level'], 40);
  assert.equal(typeof warn['conn'], 'number');
});

test('devices that cannot be described, and servers without workers, are served on the main thread', async (t) => {
  const { dir, image } = sparseImage(t, MiB);
  const file = await FileDevice.open(image);
  // The pure-Node cipher has no fused file I/O: the device stays on the main thread.
  const dev = new EncryptedDevice(file, new NodeXtsCipher(randomBytes(64)));
  t.after(() => dev.close());
  const plain = await FileDevice.open(sparseImage(t, MiB).image);
  t.after(() => plain.close());
  const a = new NbdServer({ exports: [{ name: '', device: dev }] });
  const b = new NbdServer({ exports: [{ name: '', device: plain }], workers: false });
  await a.listenUnix(join(dir, 'a.sock'));
  await b.listenUnix(join(dir, 'b.sock'));
  for (const sock of ['a.sock', 'b.sock']) {
    const c = await connect(join(dir, sock));
    c.request(1, 4096n, 4096, 1n, { data: Buffer.alloc(4096, 9) });
    assert.equal((await c.simpleReply()).error, 0);
    c.request(0, 4096n, 4096, 2n);
    assert.equal((await c.simpleReply()).error, 0);
    assert.ok((await c.read(4096)).equals(Buffer.alloc(4096, 9)));
    c.close();
  }
  await Promise.all([a.close(), b.close()]);
  assert.equal(a.workerHandoffs + b.workerHandoffs, 0);
});

test('a worker that dies ends its connections; the next connection gets a new worker', async (t) => {
  const s = await serve(t, 'encrypted', { size: MiB });
  const c = await connect(s.socket);
  c.request(1, 0n, 4096, 1n, { data: Buffer.alloc(4096, 3) });
  assert.equal((await c.simpleReply()).error, 0);
  const pool = transmissionPool() as unknown as { workers: { worker: { terminate(): Promise<number> }; conns: Set<number> }[] };
  const owner = pool.workers.find((w) => w.conns.size > 0);
  assert.ok(owner !== undefined, 'a worker serves the connection');
  await owner.worker.terminate();
  await c.closed;
  await until(() => s.server.connectionCount === 0);
  const d = await connect(s.socket);
  d.request(0, 0n, 4096, 2n);
  assert.equal((await d.simpleReply()).error, 0);
  assert.ok((await d.read(4096)).equals(Buffer.alloc(4096, 3)), 'the acknowledged write is there');
  d.close();
});

test('a worker that cannot open the device closes the connection and says why', async (t) => {
  const { lines, logger } = capturedLogger('info');
  const { dir, image } = sparseImage(t, MiB);
  const device = new AlignedDevice(new EncryptedDevice(await FileDevice.open(image), new EngineXtsCipher(randomXtsKey())));
  t.after(() => device.close());
  const server = new NbdServer({ exports: [{ name: '', device }], logger });
  await server.listenUnix(join(dir, 's.sock'));
  const pool = transmissionPool();
  const remote = pool?.register(device);
  assert.ok(pool && remote);
  remote.described.dispose(); // as if the device had been closed before any worker opened it
  await pool.release(remote);
  const c = await connect(join(dir, 's.sock'));
  await c.closed;
  await server.close();
  const err = lines.find((l) => l['msg'] === 'cannot serve the export in a worker thread');
  assert.ok(err !== undefined);
  assert.match(String(err['err']), /closed before this thread opened it/);
});

test('an idle pool never holds the process open: a process that only registers a device exits', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'd.img'), Buffer.alloc(65536));
  const src = new URL('../../src/nbd/', import.meta.url).href;
  const code = `const { transmissionPool } = await import('${src}transmission-pool.js');
    const { AlignedDevice, FileDevice } = await import('${src}index.js');
    const dev = new AlignedDevice(await FileDevice.open(${JSON.stringify(join(dir, 'd.img'))}));
    if (transmissionPool().register(dev) === null) process.exit(3);`;
  // A script file, not -e: run with -e, the process exited even while a worker held it open.
  writeFileSync(join(dir, 'register.mjs'), code);
  const child = spawn(process.execPath, [join(dir, 'register.mjs')], { stdio: 'inherit', env: { ...process.env, CRYPTVISOR_NBD_WORKERS: '2' } });
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  const [status, signal] = (await once(child, 'exit')) as [number | null, string | null];
  clearTimeout(timer);
  assert.equal(signal, null, 'the process had to be killed: the pool held it open');
  assert.equal(status, 0);
});
