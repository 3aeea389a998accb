/**
 * Server lifecycle and concurrency: requests on one connection run in parallel and are answered
 * out of order; a flush on one connection covers a write acknowledged on another; a stalled handshake is closed after its timeout; close() lets in-flight requests finish,
 * closes every connection (handshaking or transmitting) and refuses new ones.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EncryptedDevice, EngineXtsCipher, FileDevice, NbdServer, type BlockDevice, type WriteOptions, type ZeroOptions } from '../../src/nbd/index.js';
import { RawClient } from './raw-client.js';
import { randomXtsKey, serve, tempDir } from './harness.js';

const MiB = 1024 * 1024;

/** A FileDevice over a fresh sparse image of `size` bytes in a temporary directory. */
async function fileDevice(t: TestContext, size: number): Promise<{ dir: string; dev: FileDevice }> {
  const dir = tempDir(t);
  const image = join(dir, 'd.img');
  writeFileSync(image, '');
  truncateSync(image, size);
  return { dir, dev: await FileDevice.open(image) };
}

test('multi-conn: a write acknowledged on one connection is flushed by, and visible on, another', async (t) => {
  const s = await serve(t, 'encrypted', { size: MiB });
  const [a, b] = await Promise.all([RawClient.open(s.socket), RawClient.open(s.socket)]);
  for (const c of [a, b]) {
    await c.greet();
    assert.ok((await c.go()).flags & (1 << 8), 'CAN_MULTI_CONN');
  }
  a.request(1, 12345n, 6, 1n, { data: Buffer.from('shared') });
  assert.equal((await a.simpleReply()).error, 0);
  b.request(3, 0n, 0, 2n);
  assert.equal((await b.simpleReply()).error, 0, 'flush on the other connection');
  b.request(0, 12345n, 6, 3n);
  assert.equal((await b.simpleReply()).error, 0);
  assert.equal((await b.read(6)).toString(), 'shared');
  a.close();
  b.close();
});

test('request buffers outlive a connection: the next one reuses them; close() drops them', async (t) => {
  const { dir, dev } = await fileDevice(t, MiB);
  t.after(() => dev.close());
  const server = new NbdServer({ exports: [{ name: '', device: dev }], workers: false }); // the main thread's pools
  await server.listenUnix(join(dir, 's.sock'));
  for (const cookie of [1n, 2n]) {
    const c = await RawClient.open(join(dir, 's.sock'));
    await c.greet();
    await c.go();
    c.request(0, 0n, 65536, cookie);
    assert.equal((await c.simpleReply()).error, 0);
    assert.equal((await c.read(65536)).length, 65536);
    c.close();
    await c.closed;
    for (let i = 0; i < 100 && server.connectionCount > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(server.pooledBuffers, 1, 'one 64 KiB reply buffer, reused by the second connection');
  }
  await server.close();
  assert.equal(server.pooledBuffers, 0);
});

test('a client that stalls in the handshake is disconnected after the timeout', async (t) => {
  const { dir, dev } = await fileDevice(t, MiB);
  const server = new NbdServer({ exports: [{ name: '', device: dev }], handshakeTimeoutMs: 200 });
  await server.listenUnix(join(dir, 's.sock'));
  t.after(async () => {
    await server.close();
    await dev.close();
  });
  const c = await RawClient.open(join(dir, 's.sock'));
  await c.read(18);
  await c.closed;
  for (let i = 0; i < 100 && server.connectionCount > 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(server.connectionCount, 0);
});

test('close() finishes in-flight requests, closes all connections and refuses new ones', async (t) => {
  const { dir, dev } = await fileDevice(t, 8 * MiB);
  t.after(() => dev.close());
  const server = new NbdServer({ exports: [{ name: '', device: dev }] });
  const sock = join(dir, 's.sock');
  await server.listenUnix(sock);
  const idle = await RawClient.open(sock);
  await idle.read(18); // stays in the handshake
  const busy = await RawClient.open(sock);
  await busy.greet();
  await busy.go();
  // A FUA write (fdatasync) small enough to be read at once: in flight when close() is called.
  busy.request(1, BigInt(4 * MiB - 4096), 4096, 7n, { data: Buffer.alloc(4096, 0x5a), flags: 1 });
  const reply = busy.simpleReply();
  reply.catch(() => undefined);
  await new Promise((r) => setTimeout(r, 20));
  await server.close();
  // The write that was read before close was served and acknowledged, then the connection closed.
  assert.equal((await reply).error, 0);
  await Promise.all([idle.closed, busy.closed]);
  assert.equal(server.connectionCount, 0);
  await assert.rejects(RawClient.open(sock));
  const back = await dev.read(4 * MiB - 1, 1);
  assert.equal(back[0], 0x5a);
});

test('a client that sends requests but never reads replies is parked, then cleaned up when it goes', async (t) => {
  const s = await serve(t, 'file', { size: 32 * MiB });
  const c = await RawClient.open(s.socket);
  await c.greet();
  await c.go();
  c.sock.pause(); // never read the replies
  for (let i = 0; i < 3; i++) c.request(0, 0n, 32 * MiB, BigInt(i));
  await new Promise((r) => setTimeout(r, 300));
  for (let i = 3; i < 6; i++) c.request(0, 0n, 32 * MiB, BigInt(i));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(s.server.connectionCount, 1);
  c.close();
  for (let i = 0; i < 200 && s.server.connectionCount > 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(s.server.connectionCount, 0);
});

/** A FileDevice whose reads at offset 0 wait until the test opens a gate. */
/** A device that passes every call to `inner`; the test devices below change one or two. */
class PassDevice implements BlockDevice {
  readonly blockSize = 1;
  readonly size: number;
  constructor(protected readonly inner: BlockDevice) {
    this.size = inner.size;
  }
  read(offset: number, length: number): Promise<Buffer> {
    return this.inner.read(offset, length);
  }
  write(offset: number, data: Buffer, opts?: WriteOptions): Promise<void> {
    return this.inner.write(offset, data, opts);
  }
  flush(): Promise<void> {
    return this.inner.flush();
  }
  trim(offset: number, length: number, opts?: WriteOptions): Promise<void> {
    return this.inner.trim(offset, length, opts);
  }
  writeZeroes(offset: number, length: number, opts?: ZeroOptions): Promise<void> {
    return this.inner.writeZeroes(offset, length, opts);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

class GatedDevice extends PassDevice {
  private open!: () => void;
  readonly gate = new Promise<void>((resolve) => (this.open = resolve));
  release(): void {
    this.open();
  }
  override async read(offset: number, length: number): Promise<Buffer> {
    if (offset === 0) await this.gate;
    return this.inner.read(offset, length);
  }
}

test('requests on one connection run in parallel and are answered out of order', async (t) => {
  const { dir, dev: file } = await fileDevice(t, MiB);
  const dev = new GatedDevice(file);
  const server = new NbdServer({ exports: [{ name: '', device: dev }] });
  await server.listenUnix(join(dir, 's.sock'));
  t.after(async () => {
    dev.release();
    await server.close();
    await dev.close();
  });
  const c = await RawClient.open(join(dir, 's.sock'));
  await c.greet();
  await c.go();
  c.request(0, 0n, 16, 1n); // held at the gate
  c.request(1, 4096n, 2, 2n, { data: Buffer.from('ok') });
  assert.equal((await c.simpleReply()).cookie, 2n, 'the later write is answered first');
  c.request(0, 4096n, 2, 3n);
  const r3 = await c.simpleReply();
  assert.equal(r3.cookie, 3n);
  assert.equal((await c.read(2)).toString(), 'ok');
  dev.release();
  const r1 = await c.simpleReply();
  assert.equal(r1.cookie, 1n);
  assert.equal((await c.read(16)).length, 16);
  c.close();
});

/** A device with writeNow: the first call fails as a full disk would, later ones decline. */
class NowDevice extends PassDevice {
  nowCalls = 0;
  writeNow(): boolean {
    if (++this.nowCalls === 1) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    return false;
  }
}

test('a write done at once (writeNow) that fails is answered with its error; one it declines goes the usual way', async (t) => {
  const { dir, dev: file } = await fileDevice(t, MiB);
  const dev = new NowDevice(file);
  t.after(() => dev.close());
  const server = new NbdServer({ exports: [{ name: '', device: dev }], workers: false });
  await server.listenUnix(join(dir, 's.sock'));
  t.after(() => server.close());
  const c = await RawClient.open(join(dir, 's.sock'));
  await c.greet();
  await c.go();
  c.request(1, 0n, 4096, 1n, { data: Buffer.alloc(4096, 5) });
  assert.deepEqual(await c.simpleReply(), { error: 28, cookie: 1n }, 'ENOSPC');
  c.request(1, 4096n, 4096, 2n, { data: Buffer.alloc(4096, 6) });
  assert.deepEqual(await c.simpleReply(), { error: 0, cookie: 2n });
  assert.equal(dev.nowCalls, 2);
  assert.ok((await file.read(4096, 4096)).equals(Buffer.alloc(4096, 6)), 'the declined write went through write()');
  assert.ok((await file.read(0, 4096)).equals(Buffer.alloc(4096)), 'the failed one wrote nothing');
  c.close();
});

for (const [workers, writes] of [[true, 600], [false, 600], [true, 20_000], [false, 20_000]] as const) {
  const overflow = writes > 600 ? ', replies overflowing the socket while the client reads none' : '';
  test(`pipelined writes, reads and a DISC: every reply arrives, in one piece, before the server closes (${workers ? 'worker' : 'main thread'}, ${writes} writes${overflow})`, async (t) => {
    const { dir, dev: file } = await fileDevice(t, MiB);
    const dev = new EncryptedDevice(file, new EngineXtsCipher(randomXtsKey()), { inline: true });
    t.after(() => dev.close());
    const server = new NbdServer({ exports: [{ name: '', device: dev }], workers });
    await server.listenUnix(join(dir, 's.sock'));
    t.after(() => server.close());
    const c = await RawClient.open(join(dir, 's.sock'));
    await c.greet();
    await c.go();
    // Hundreds of writes with reads in between, all sent before the first reply is read, then
    // NBD_CMD_DISC: replies corked in one turn must all leave before the connection ends. With
    // 20,000 writes and reads of 64 KiB the replies (about 13 MB) overflow the socket's 4 MiB
    // while the client does not read: the batched replies must then queue behind the stream.
    const readLength = writes > 600 ? 65536 : 4096;
    const reqs: Buffer[] = [];
    const header = (type: number, offset: number, length: number, cookie: number): Buffer => {
      const h = Buffer.alloc(28);
      h.writeUInt32BE(0x25609513, 0);
      h.writeUInt16BE(type, 6);
      h.writeBigUInt64BE(BigInt(cookie), 8);
      h.writeBigUInt64BE(BigInt(offset), 16);
      h.writeUInt32BE(length, 24);
      return h;
    };
    for (let i = 0; i < writes; i++) {
      reqs.push(header(1, (i % 256) * 4096, 4096, i + 1), Buffer.alloc(4096, i % 256));
      if (i % 100 === 99) reqs.push(header(0, 0, readLength, 100_000 + i));
    }
    reqs.push(header(2, 0, 0, 999_999));
    c.sock.pause();
    await new Promise<void>((resolve, reject) => c.sock.write(Buffer.concat(reqs), (err) => (err ? reject(err) : resolve())));
    c.sock.resume();
    const seen = new Set<number>();
    for (let n = 0; n < writes + writes / 100; n++) {
      const r = await c.simpleReply();
      assert.equal(r.error, 0);
      const cookie = Number(r.cookie);
      if (cookie >= 100_000) assert.equal((await c.read(readLength)).length, readLength, 'a read reply carries its data');
      assert.ok(!seen.has(cookie), `cookie ${cookie} answered once`);
      seen.add(cookie);
    }
    for (let i = 1; i <= writes; i++) assert.ok(seen.has(i), `write ${i} answered`);
    await c.closed;
    for (let i = writes - 256; i < writes; i++) {
      assert.ok((await dev.read((i % 256) * 4096, 4096)).equals(Buffer.alloc(4096, i % 256)), `block ${i % 256}`);
    }
  });
}
