import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect, format } from 'node:util';
import { SecretBytes, withSecret } from './secret-bytes.js';
import { CryptoError } from './errors.js';

test('random(n) has n bytes and two draws differ', () => {
  const a = SecretBytes.random(32);
  const b = SecretBytes.random(32);
  assert.equal(a.length, 32);
  assert.equal(a.equals(b), false);
  assert.equal(a.equals(a), true);
});

test('from() copies, and zeroes the source only when asked', () => {
  const src = Buffer.from('0123456789abcdef');
  const s = SecretBytes.from(src);
  src[0] = 0x7a;
  const copy = s.bytes();
  assert.equal(copy.toString(), '0123456789abcdef');
  copy.fill(0);
  const src2 = Buffer.from('secret-source');
  const t = SecretBytes.from(src2, { zeroSource: true });
  assert.deepEqual([...src2], new Array<number>(src2.length).fill(0));
  assert.equal(t.use((b) => b.toString()), 'secret-source');
});

test('bytes() returns a copy the caller may zero without touching the secret', () => {
  const s = SecretBytes.from(Buffer.from([1, 2, 3]));
  const c = s.bytes();
  c.fill(0);
  assert.deepEqual([...s.bytes()], [1, 2, 3]);
});

test('equals() compares content and length', () => {
  const a = SecretBytes.from(Buffer.from([1, 2, 3]));
  assert.equal(a.equals(SecretBytes.from(Buffer.from([1, 2, 3]))), true);
  assert.equal(a.equals(SecretBytes.from(Buffer.from([1, 2, 4]))), false);
  assert.equal(a.equals(SecretBytes.from(Buffer.from([1, 2]))), false);
});

test('prints as [redacted] in every form', () => {
  const s = SecretBytes.from(Buffer.from('hunter2hunter2'));
  assert.equal(String(s), '[redacted]');
  assert.equal(`${s}`, '[redacted]');
  assert.equal(JSON.stringify({ key: s }), '{"key":"[redacted]"}');
  assert.equal(inspect(s), '[redacted]');
  assert.equal(inspect({ nested: { s } }, { depth: 5 }), '{ nested: { s: [redacted] } }');
  assert.equal(format('%o %O %s %j', s, s, s, s).includes('hunter2'), false);
});

test('dispose() zeroes the memory and later use throws key_disposed', () => {
  const s = SecretBytes.from(Buffer.from([9, 9, 9, 9]));
  let seen: Buffer | undefined;
  s.use((b) => {
    seen = b;
  });
  s.dispose();
  assert.deepEqual([...(seen ?? [])], [0, 0, 0, 0]);
  assert.equal(s.disposed, true);
  for (const f of [() => s.length, () => s.bytes(), () => s.use(() => 0), () => s.equals(s)]) {
    assert.throws(f, (e: unknown) => e instanceof CryptoError && e.code === 'key_disposed');
  }
  s.dispose();
});

test('withSecret disposes also when the callback throws', async () => {
  const s = SecretBytes.random(16);
  await assert.rejects(
    withSecret(s, () => {
      throw new Error('boom');
    }),
    /boom/,
  );
  assert.equal(s.disposed, true);
});

test('slice() copies a range and checks bounds', () => {
  const s = SecretBytes.from(Buffer.from([0, 1, 2, 3, 4, 5]));
  assert.deepEqual([...s.slice(2, 4).bytes()], [2, 3]);
  assert.throws(() => s.slice(4, 9), (e: unknown) => e instanceof CryptoError && e.code === 'argument_invalid');
});
