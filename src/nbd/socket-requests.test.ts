/**
 * Request framing on both sources, over real Unix sockets: random mixes of requests (small and
 * large WRITEs, oversized WRITEs, header-only commands) sent in random-sized pieces come out
 * whole and in order; bytes received before the switch are not lost; a slow consumer makes the
 * socket source stop and restart reading without losing anything; a bad magic number is reported.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { ByteReader } from './byte-reader.js';
import { CMD, MAX_PAYLOAD, REQUEST_MAGIC } from './protocol.js';
import { StreamRequests, type NbdRequest, type RequestSource } from './requests.js';
import { openSocketRequests, SocketRequests } from './socket-requests.js';

interface Sent {
  readonly type: number;
  readonly cookie: number;
  readonly offset: number;
  readonly length: number;
  /** sha256 of a WRITE's payload ('' otherwise). */
  readonly digest: string;
}

/** A deterministic generator (xorshift32), so a failing mix can be replayed from its seed. */
function rng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

/** The byte stream of `count` random requests, and what each should parse to. */
function requestStream(seed: number, count: number): { bytes: Buffer; sent: Sent[] } {
  const r = rng(seed);
  const parts: Buffer[] = [];
  const sent: Sent[] = [];
  for (let i = 0; i < count; i++) {
    const pick = r(10);
    const type = pick < 5 ? CMD.WRITE : pick < 8 ? CMD.READ : pick < 9 ? CMD.FLUSH : CMD.TRIM;
    let length = [1, 512, 4096, 20_000, 65_536, 262_144, 300_001][r(7)] as number;
    if (type === CMD.WRITE && i === 17) length = MAX_PAYLOAD + 1 + r(1000);
    const h = Buffer.alloc(28);
    h.writeUInt32BE(REQUEST_MAGIC, 0);
    h.writeUInt16BE(type, 6);
    h.writeUInt32BE(i, 12);
    h.writeUInt32BE(i * 4096, 20);
    h.writeUInt32BE(length, 24);
    parts.push(h);
    let digest = '';
    if (type === CMD.WRITE) {
      const payload = Buffer.alloc(length, i & 0xff);
      if (length >= 4) payload.writeUInt32BE(i, 0);
      parts.push(payload);
      digest = length > MAX_PAYLOAD ? '' : createHash('sha256').update(payload).digest('hex');
    }
    sent.push({ type, cookie: i, offset: i * 4096, length, digest });
  }
  return { bytes: Buffer.concat(parts), sent };
}

/** Writes `bytes` in random pieces (1 byte to 300 KiB), waiting for the socket when it is full. */
async function sendPieces(sock: Socket, bytes: Buffer, seed: number): Promise<void> {
  const r = rng(seed ^ 0x5bd1e995);
  for (let at = 0; at < bytes.length; ) {
    const n = Math.min(bytes.length - at, r(3) === 0 ? 1 + r(64) : 1 + r(300 * 1024));
    if (!sock.write(bytes.subarray(at, at + n))) await new Promise((res) => sock.once('drain', res));
    at += n;
  }
}

function check(got: NbdRequest, want: Sent): void {
  assert.equal(got.type, want.type);
  assert.equal(got.cookieLo, want.cookie);
  assert.equal(got.offset, want.offset);
  assert.equal(got.length, want.length);
  if (want.type !== CMD.WRITE) assert.equal(got.data, null);
  else if (want.digest === '') assert.equal(got.data, null, 'an oversized payload is dropped');
  else assert.equal(createHash('sha256').update(got.data as Buffer).digest('hex'), want.digest, `payload of request ${want.cookie}`);
}

/** A Unix-socket server whose first connection is handed to `onSocket`; returns a connected client. */
async function pair(t: TestContext, onSocket: (s: Socket) => void): Promise<Socket> {
  const dir = mkdtempSync(join(tmpdir(), 'cv-reqs-'));
  const path = join(dir, 's.sock');
  const srv = createServer((s) => onSocket(s));
  await new Promise<void>((res) => srv.listen(path, res));
  const client = connect(path);
  await new Promise<void>((res) => client.once('connect', res));
  t.after(() => {
    client.destroy();
    srv.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return client;
}

/** Receives `count` requests from the source made for the server side, checking each in order. */
async function receiveAll(t: TestContext, seed: number, count: number, make: (s: Socket) => Promise<RequestSource>, slow = false): Promise<void> {
  const { bytes, sent } = requestStream(seed, count);
  let source: Promise<RequestSource> | undefined;
  const client = await pair(t, (s) => (source = make(s)));
  const sending = sendPieces(client, bytes, seed);
  for (let i = 0; i < 100 && source === undefined; i++) await new Promise((res) => setTimeout(res, 10));
  const src = await (source as Promise<RequestSource>);
  for (const want of sent) {
    const got = src.nextNow() ?? (await src.next());
    check(got, want);
    if (slow && want.cookie % 7 === 0) await new Promise((res) => setTimeout(res, 2));
  }
  await sending;
  src.cancel();
}

const alloc = (n: number): Buffer => Buffer.alloc(n, 0xee);

/** The socket source over an accepted connection, as connection.ts opens it (after a handshake reader). */
async function socketSource(s: Socket, highWater = 4 * 1024 * 1024): Promise<RequestSource> {
  const reader = new ByteReader(highWater);
  reader.attach(s);
  // Some bytes reach the handshake's reader first: they must come out first.
  for (let i = 0; i < 200 && reader.available === 0; i++) await new Promise((res) => setTimeout(res, 5));
  assert.ok(reader.available > 0);
  const src = openSocketRequests(s, reader, alloc, highWater);
  assert.ok(src instanceof SocketRequests, 'the system-call addon is built, so the socket source is used');
  return src;
}

for (const seed of [1, 2, 3, 4]) {
  test(`socket source: random requests in random pieces arrive whole and in order (seed ${seed})`, async (t) => {
    await receiveAll(t, seed, 300, (s) => socketSource(s));
  });
}

test('socket source: a slow consumer pauses reading at the high-water mark and loses nothing', async (t) => {
  await receiveAll(t, 9, 300, (s) => socketSource(s, 256 * 1024), true);
});

test('stream source: the same framing through a ByteReader', async (t) => {
  await receiveAll(t, 5, 200, async (s) => {
    const reader = new ByteReader(4 * 1024 * 1024);
    reader.attach(s);
    return new StreamRequests(reader, alloc);
  });
});

test('socket source: a bad magic number rejects with code protocol', async (t) => {
  let source: Promise<RequestSource> | undefined;
  const client = await pair(t, (s) => (source = socketSource(s)));
  const bad = Buffer.alloc(28);
  bad.writeUInt32BE(0xdeadbeef, 0);
  client.write(bad);
  for (let i = 0; i < 100 && source === undefined; i++) await new Promise((res) => setTimeout(res, 10));
  const src = await (source as Promise<RequestSource>);
  await assert.rejects(Promise.resolve().then(() => src.nextNow() ?? src.next()), { code: 'protocol' });
});
