/**
 * Malformed and hostile input over raw sockets: each gets the spec's error reply or a clean
 * disconnect, the server never crashes, other connections keep working, and no acknowledged
 * write is lost when a client vanishes mid-request.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient } from './raw-client.js';
import { KINDS, serve } from './harness.js';

const OPT = { EXPORT_NAME: 1, LIST: 3, STARTTLS: 5, INFO: 6, STRUCTURED_REPLY: 8 };
const REP = { ACK: 1, SERVER: 2, ERR_UNSUP: 0x80000001, ERR_POLICY: 0x80000002, ERR_INVALID: 0x80000003, ERR_TLS_REQD: 0x80000005, ERR_UNKNOWN: 0x80000006, ERR_TOO_BIG: 0x80000009 };
const CMD = { READ: 0, WRITE: 1, DISC: 2, FLUSH: 3, TRIM: 4, CACHE: 5, WRITE_ZEROES: 6 };
const E = { EPERM: 1, EINVAL: 22, ENOSPC: 28, EOVERFLOW: 75, ENOTSUP: 95 };
const MiB = 1024 * 1024;

test('handshake: bad magic, unknown flags, unknown and malformed options', async (t) => {
  const s = await serve(t, 'file', { size: MiB });

  const badFlags = await RawClient.open(s.socket);
  await badFlags.greet(0x80);
  await badFlags.closed; // unknown client flags: the server must drop the connection

  const badMagic = await RawClient.open(s.socket);
  await badMagic.greet();
  badMagic.sendOption(OPT.LIST, Buffer.alloc(0), 0x1122334455667788n);
  await badMagic.closed;

  const c = await RawClient.open(s.socket);
  assert.equal(await c.greet(), 3, 'FIXED_NEWSTYLE | NO_ZEROES');
  c.sendOption(99);
  assert.equal((await c.optionReply()).type, REP.ERR_UNSUP);
  c.sendOption(OPT.LIST, Buffer.from('junk'));
  assert.equal((await c.optionReply()).type, REP.ERR_INVALID);
  c.sendOption(OPT.STARTTLS);
  assert.equal((await c.optionReply()).type, REP.ERR_POLICY, 'no TLS configured');
  const info = Buffer.alloc(4 + 7 + 2);
  info.writeUInt32BE(7, 0);
  info.write('missing', 4);
  c.sendOption(OPT.INFO, info);
  assert.equal((await c.optionReply()).type, REP.ERR_UNKNOWN);
  const shortInfo = Buffer.alloc(4);
  shortInfo.writeUInt32BE(1000, 0);
  c.sendOption(OPT.INFO, shortInfo);
  assert.equal((await c.optionReply()).type, REP.ERR_INVALID);
  c.sendOption(OPT.LIST, Buffer.alloc(1024 * 1024)); // far over the option limit: skipped unbuffered
  assert.equal((await c.optionReply()).type, REP.ERR_TOO_BIG);
  c.sendOption(OPT.LIST);
  const names: string[] = [];
  for (;;) {
    const r = await c.optionReply();
    if (r.type === REP.ACK) break;
    assert.equal(r.type, REP.SERVER);
    names.push(r.data.toString('utf8', 4, 4 + r.data.readUInt32BE(0)));
  }
  assert.deepEqual(names.sort(), ['', 'disk']);
  const { size } = await c.go('disk');
  assert.equal(size, BigInt(MiB));
  c.close();

  // EXPORT_NAME of an unknown export cannot be refused: the server closes.
  const ex = await RawClient.open(s.socket);
  await ex.greet();
  ex.sendOption(OPT.EXPORT_NAME, Buffer.from('nope'));
  await ex.closed;
});

for (const kind of KINDS) {
  test(`transmission: invalid requests get their errors and the connection survives (${kind})`, async (t) => {
    const s = await serve(t, kind, { size: MiB });
    const c = await RawClient.open(s.socket);
    await c.greet();
    await c.go();
    const expectError = async (cookie: bigint, errno: number, what: string): Promise<void> => {
      const r = await c.simpleReply();
      assert.equal(r.cookie, cookie, what);
      assert.equal(r.error, errno, what);
    };
    c.request(42, 0n, 1, 1n);
    await expectError(1n, E.EINVAL, 'unknown command');
    c.request(CMD.READ, BigInt(MiB - 10), 20, 2n);
    await expectError(2n, E.EINVAL, 'read past the end');
    c.request(CMD.WRITE, BigInt(MiB - 10), 20, 3n, { data: Buffer.alloc(20) });
    await expectError(3n, E.ENOSPC, 'write past the end');
    c.request(CMD.WRITE_ZEROES, BigInt(MiB), 1, 4n);
    await expectError(4n, E.ENOSPC, 'zeroes past the end');
    c.request(CMD.TRIM, 0xffffffffffff0000n, 1, 5n);
    await expectError(5n, E.EINVAL, 'trim at a huge offset');
    c.request(CMD.READ, 0n, 33 * MiB, 6n);
    await expectError(6n, E.EOVERFLOW, 'read over 32 MiB');
    c.request(CMD.WRITE, 0n, 33 * MiB, 7n, { data: Buffer.alloc(33 * MiB, 0x77) });
    await expectError(7n, E.EOVERFLOW, 'write over 32 MiB (payload skipped)');
    c.request(CMD.READ, 0n, 0, 8n);
    await expectError(8n, E.EINVAL, 'zero-length read');
    c.request(CMD.FLUSH, 0n, 5, 9n);
    await expectError(9n, E.EINVAL, 'flush with a length');
    c.request(CMD.CACHE, 0n, 4096, 10n);
    await expectError(10n, E.ENOTSUP, 'cache');
    c.request(CMD.READ, 0n, 4096, 11n, { flags: 1 << 2 });
    await expectError(11n, E.EINVAL, 'DF without SEND_DF');
    c.request(CMD.WRITE_ZEROES, 0n, 4096, 12n, { flags: 1 << 4 });
    await expectError(12n, E.EINVAL, 'FAST_ZERO not offered');

    // Still serving: a write then a read of the same bytes.
    c.request(CMD.WRITE, 5n, 3, 13n, { data: Buffer.from('abc'), flags: 1 });
    await expectError(13n, 0, 'FUA write');
    c.request(CMD.READ, 4n, 5, 14n);
    await expectError(14n, 0, 'read');
    assert.equal((await c.read(5)).toString('latin1', 1, 4), 'abc');

    // Bad request magic: hard disconnect.
    c.request(CMD.READ, 0n, 1, 15n, { magic: 0xdeadbeef });
    await c.closed;
  });
}

test('structured replies: data chunk and error chunk with a message', async (t) => {
  const s = await serve(t, 'file', { size: MiB });
  const c = await RawClient.open(s.socket);
  await c.greet();
  c.sendOption(OPT.STRUCTURED_REPLY);
  assert.equal((await c.optionReply()).type, REP.ACK);
  await c.go();
  c.request(CMD.WRITE, 100n, 4, 1n, { data: Buffer.from('wxyz') });
  assert.equal((await c.simpleReply()).error, 0);
  c.request(CMD.READ, 101n, 2, 2n);
  const h = await c.read(20);
  assert.equal(h.readUInt32BE(0), 0x668e33ef);
  assert.equal(h.readUInt16BE(4), 1, 'DONE');
  assert.equal(h.readUInt16BE(6), 1, 'OFFSET_DATA');
  assert.equal(h.readBigUInt64BE(8), 2n);
  assert.equal(h.readUInt32BE(16), 10);
  const body = await c.read(10);
  assert.equal(body.readBigUInt64BE(0), 101n);
  assert.equal(body.toString('latin1', 8), 'xy');
  c.request(CMD.READ, BigInt(MiB), 1, 3n);
  const e = await c.read(20);
  assert.equal(e.readUInt16BE(6), 0x8001, 'NBD_REPLY_TYPE_ERROR');
  assert.equal(e.readBigUInt64BE(8), 3n);
  const ebody = await c.read(e.readUInt32BE(16));
  assert.equal(ebody.readUInt32BE(0), E.EINVAL);
  assert.equal(ebody.readUInt16BE(4), ebody.length - 6);
  c.request(CMD.DISC, 0n, 0, 4n);
  await c.closed;
});

test('read-only export: READ_ONLY flag, writes refused with EPERM', async (t) => {
  const s = await serve(t, 'file', { size: MiB, readOnly: true });
  const c = await RawClient.open(s.socket);
  await c.greet();
  const { flags } = await c.go();
  assert.ok(flags & 2, 'READ_ONLY');
  assert.equal(flags & (1 << 3), 0, 'no FUA on a read-only export');
  for (const [cmd, cookie] of [
    [CMD.WRITE, 1n],
    [CMD.TRIM, 2n],
    [CMD.WRITE_ZEROES, 3n],
  ] as const) {
    c.request(cmd, 0n, 1, cookie, cmd === CMD.WRITE ? { data: Buffer.from('x') } : {});
    const r = await c.simpleReply();
    assert.equal(r.error, E.EPERM);
  }
  c.close();
});

test('a client vanishing mid-write loses nothing acknowledged; others keep working', async (t) => {
  const s = await serve(t, 'encrypted', { size: MiB });
  const a = await RawClient.open(s.socket);
  await a.greet();
  await a.go();
  a.request(CMD.WRITE, 4096n, 5, 1n, { data: Buffer.from('kept!') });
  assert.equal((await a.simpleReply()).error, 0);
  // Header and half the payload of a second write, then gone.
  const h = Buffer.alloc(28);
  h.writeUInt32BE(0x25609513, 0);
  h.writeUInt16BE(CMD.WRITE, 6);
  h.writeBigUInt64BE(8192n, 16);
  h.writeUInt32BE(65536, 24);
  a.write(Buffer.concat([h, Buffer.alloc(30000, 0xee)]));
  a.close();
  // Mid-handshake vanishing too.
  const b = await RawClient.open(s.socket);
  await b.read(10);
  b.close();

  const c = await RawClient.open(s.socket);
  await c.greet();
  await c.go();
  c.request(CMD.READ, 4096n, 5, 9n);
  assert.equal((await c.simpleReply()).error, 0);
  assert.equal((await c.read(5)).toString(), 'kept!');
  c.request(CMD.READ, 8192n, 4, 10n);
  assert.equal((await c.simpleReply()).error, 0);
  assert.deepEqual(await c.read(4), Buffer.alloc(4), 'the unfinished write left nothing');
  c.close();
});

test('TCP without TLS: options get NBD_REP_ERR_TLS_REQD, EXPORT_NAME closes', async (t) => {
  const s = await serve(t, 'file', { size: MiB, tls: true });
  const c = await RawClient.open(s.port as number);
  await c.greet();
  c.sendOption(OPT.LIST);
  assert.equal((await c.optionReply()).type, REP.ERR_TLS_REQD);
  c.sendOption(OPT.INFO, Buffer.from([0, 0, 0, 0, 0, 0]));
  assert.equal((await c.optionReply()).type, REP.ERR_TLS_REQD);
  c.sendOption(OPT.EXPORT_NAME);
  await c.closed;
  // Not fixed newstyle over TCP: TLS is impossible, so the server closes at once.
  const d = await RawClient.open(s.port as number);
  await d.greet(0);
  await d.closed;
});
