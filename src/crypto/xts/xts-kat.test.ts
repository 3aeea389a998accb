// Known-answer tests of both XTS engines through the single-data-unit call:
// NIST CAVP XTSGenAES256 (both tweak formats) and IEEE 1619-2007 vectors 1-14.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SecretBytes } from '../secret-bytes.js';
import { CryptoError } from '../errors.js';
import { ieee1619Vectors, nistXtsVectors, type XtsVector } from '../testdata/read-vectors.js';
import { createXtsKey } from './xts-key.js';
import { getFallbackXtsEngine, getNativeXtsEngine } from './select.js';
import type { XtsEngine } from './engine.js';
import { IN_CI } from '../../../test/support/peers.js';

function engines(): XtsEngine[] {
  const native = getNativeXtsEngine();
  if (native === null && IN_CI) assert.fail('the native XTS addon is not built (npm install builds it)');
  return native === null ? [getFallbackXtsEngine()] : [getFallbackXtsEngine(), native];
}

function runVector(engine: XtsEngine, v: XtsVector): void {
  const secret = SecretBytes.from(v.key);
  const key = createXtsKey(secret, { allowAes128: true });
  secret.dispose();
  try {
    if (v.direction === 'encrypt') {
      assert.equal(Buffer.from(engine.encryptUnit(key, v.tweak, v.plaintext)).toString('hex'), v.ciphertext.toString('hex'), v.name);
    }
    assert.equal(Buffer.from(engine.decryptUnit(key, v.tweak, v.ciphertext)).toString('hex'), v.plaintext.toString('hex'), v.name);
  } finally {
    key.dispose();
  }
}

test('the native engine is built (it is skipped only outside CI)', (t) => {
  if (getNativeXtsEngine() === null) {
    if (IN_CI) assert.fail('the native XTS addon is not built');
    t.skip('native addon not built: run npm install');
  }
});

for (const format of ['hex', 'seqno'] as const) {
  test(`NIST CAVP XTSGenAES256, tweak format ${format}: 600 cases of 256 and 384 bits on each engine`, () => {
    const vectors = nistXtsVectors(format);
    assert.equal(vectors.length, 600);
    assert.ok(vectors.some((v) => v.direction === 'decrypt'));
    assert.ok(vectors.every((v) => v.plaintext.length === 32 || v.plaintext.length === 48));
    for (const engine of engines()) for (const v of vectors) runVector(engine, v);
  });
}

test('IEEE 1619 vectors 2-14 on each engine; vector 1 (equal key halves) is rejected', () => {
  const vectors = ieee1619Vectors();
  assert.deepEqual(
    vectors.map((v) => v.name),
    Array.from({ length: 14 }, (_, i) => `IEEE 1619 vector ${i + 1}`),
  );
  const [first, ...rest] = vectors;
  assert.ok(first);
  assert.throws(
    () => createXtsKey(SecretBytes.from(first.key), { allowAes128: true }),
    (e: unknown) => e instanceof CryptoError && e.code === 'key_invalid',
  );
  for (const engine of engines()) for (const v of rest) runVector(engine, v);
});

test('createXtsKey: 64 bytes only (unless AES-128 is asked for), halves must differ', () => {
  const isKeyInvalid = (e: unknown): boolean => e instanceof CryptoError && e.code === 'key_invalid';
  for (const n of [0, 16, 32, 48, 63, 65, 128]) {
    assert.throws(() => createXtsKey(SecretBytes.random(n)), isKeyInvalid, `length ${n}`);
  }
  const half = Buffer.alloc(32, 0xa5);
  assert.throws(() => createXtsKey(SecretBytes.from(Buffer.concat([half, half]))), isKeyInvalid);
  assert.throws(() => createXtsKey(SecretBytes.from(Buffer.alloc(64))), isKeyInvalid);
  const key = createXtsKey(SecretBytes.random(64));
  assert.equal(key.cipher, 'aes-256-xts');
  assert.equal(String(key), '[redacted]');
  assert.equal(JSON.stringify({ key }), '{"key":"[redacted]"}');
  key.dispose();
  assert.throws(() => getFallbackXtsEngine().encryptUnit(key, Buffer.alloc(16), Buffer.alloc(16)), (e: unknown) => e instanceof CryptoError && e.code === 'key_disposed');
});
