import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TtlvFramer } from './client-connection.js';
import { KmipClientError } from './client-errors.js';

/** A Response Message header (tag 42007B, Structure) with a body of n bytes of value fill. */
function message(n: number, fill: number): Buffer {
  const b = Buffer.alloc(8 + n, fill);
  b.writeUIntBE(0x42007b, 0, 3);
  b[3] = 0x01;
  b.writeUInt32BE(n, 4);
  return b;
}

// Chunks are copies: the framer zeroes the chunks it has consumed.
test('TtlvFramer cuts a message that arrives one byte at a time', () => {
  const f = new TtlvFramer(1024);
  const m = message(16, 0xab);
  for (let i = 0; i < m.length - 1; i++) {
    f.push(Buffer.from(m.subarray(i, i + 1)));
    assert.equal(f.next(), undefined);
  }
  f.push(Buffer.from(m.subarray(m.length - 1)));
  assert.deepEqual(f.next(), m);
  assert.equal(f.buffered, 0);
});

test('TtlvFramer splits two messages that arrive in one chunk and keeps the rest', () => {
  const f = new TtlvFramer(1024);
  const a = message(8, 1);
  const b = message(24, 2);
  f.push(Buffer.concat([a, b.subarray(0, 10)])); // (the framer zeroes chunks it has consumed)
  assert.deepEqual(f.next(), a);
  assert.equal(f.buffered, 10);
  assert.equal(f.next(), undefined);
  f.push(Buffer.from(b.subarray(10)));
  assert.deepEqual(f.next(), b);
});

test('TtlvFramer refuses a length above the limit from the header alone', () => {
  const f = new TtlvFramer(64);
  f.push(message(100, 0).subarray(0, 8));
  assert.throws(
    () => f.next(),
    (e: unknown) => e instanceof KmipClientError && e.code === 'response_invalid',
  );
});

test('TtlvFramer refuses bytes that are not a Response Message structure', () => {
  const f = new TtlvFramer(1024);
  const m = message(8, 0);
  m.writeUIntBE(0x420078, 0, 3); // a Request Message
  f.push(m);
  assert.throws(
    () => f.next(),
    (e: unknown) => e instanceof KmipClientError && e.code === 'response_invalid',
  );
  const g = new TtlvFramer(1024);
  g.push(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'));
  assert.throws(
    () => g.next(),
    (e: unknown) => e instanceof KmipClientError && e.code === 'response_invalid',
  );
});

test('TtlvFramer.clear zeroes what it buffered', () => {
  const f = new TtlvFramer(1024);
  const chunk = message(16, 0x5a).subarray(0, 12);
  f.push(chunk);
  f.clear();
  assert.equal(f.buffered, 0);
  assert.ok(chunk.every((b) => b === 0));
});
