// Key wrap: round trip, self-describing format, and the Vault-style security properties.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SecretBytes } from './secret-bytes.js';
import { CryptoError, UNWRAP_FAILED_MESSAGE } from './errors.js';
import { KEY_WRAP_VERSION, encodeKeyWrapContext, unwrapKey, wrapKey, type KeyWrapContext } from './key-wrap.js';

const ctx: KeyWrapContext = {
  formatVersion: 1,
  vmUuid: '6f1c1f0e-3a57-4c4b-9f0e-0c2d5b0a8e11',
  slot: 'disk:scsi0-0',
  keyProviderId: 'kms-local',
  keyId: 'a1b2c3',
};

function isUnwrapFailed(e: unknown): boolean {
  return e instanceof CryptoError && e.code === 'unwrap_failed' && e.message === UNWRAP_FAILED_MESSAGE && e.cause === undefined;
}

test('wrap then unwrap returns the key; the output is version || nonce || ct || tag in base64', () => {
  const kek = SecretBytes.random(32);
  const dek = SecretBytes.random(64);
  const wrapped = wrapKey(kek, dek, ctx);
  const raw = Buffer.from(wrapped, 'base64');
  assert.equal(raw.length, 1 + 12 + 64 + 16);
  assert.equal(raw[0], KEY_WRAP_VERSION);
  assert.equal(raw.includes(dek.bytes()), false);
  const back = unwrapKey(kek, wrapped, ctx);
  assert.equal(back.equals(dek), true);
  // A fresh nonce each time: wrapping twice gives two different blobs.
  assert.notEqual(wrapKey(kek, dek, ctx), wrapped);
});

test('wrong KEK, another disk, VM, slot, provider, key ID or format version: all fail the same way', () => {
  const kek = SecretBytes.random(32);
  const dek = SecretBytes.random(64);
  const wrapped = wrapKey(kek, dek, ctx);
  assert.throws(() => unwrapKey(SecretBytes.random(32), wrapped, ctx), isUnwrapFailed);
  const moved: KeyWrapContext[] = [
    { ...ctx, slot: 'disk:scsi0-1' },
    { ...ctx, slot: 'home' },
    { ...ctx, vmUuid: '00000000-0000-0000-0000-000000000000' },
    { ...ctx, keyProviderId: 'other' },
    { ...ctx, keyId: 'a1b2c4' },
    { ...ctx, formatVersion: 2 },
  ];
  for (const m of moved) assert.throws(() => unwrapKey(kek, wrapped, m), isUnwrapFailed, JSON.stringify(m));
});

test('any flipped byte, truncation, a bad version or garbage fails the same way', () => {
  const kek = SecretBytes.random(32);
  const wrapped = wrapKey(kek, SecretBytes.random(32), ctx);
  const raw = Buffer.from(wrapped, 'base64');
  for (let i = 0; i < raw.length; i++) {
    const bad = Buffer.from(raw);
    bad[i] = (bad[i] ?? 0) ^ 0x01;
    assert.throws(() => unwrapKey(kek, bad.toString('base64'), ctx), isUnwrapFailed, `byte ${i}`);
  }
  for (const s of ['', 'not base64!', raw.subarray(0, 20).toString('base64'), raw.subarray(0, raw.length - 1).toString('base64'), 'A'.repeat(10000)]) {
    assert.throws(() => unwrapKey(kek, s, ctx), isUnwrapFailed);
  }
});

test('the context encoding is unambiguous and checked', () => {
  const a = encodeKeyWrapContext({ ...ctx, vmUuid: 'ab', slot: 'c' });
  const b = encodeKeyWrapContext({ ...ctx, vmUuid: 'a', slot: 'bc' });
  assert.notDeepEqual(a, b);
  const bad = (e: unknown): boolean => e instanceof CryptoError && e.code === 'argument_invalid';
  assert.throws(() => encodeKeyWrapContext({ ...ctx, keyId: '' }), bad);
  assert.throws(() => encodeKeyWrapContext({ ...ctx, formatVersion: -1 }), bad);
  assert.throws(() => encodeKeyWrapContext({ ...ctx, slot: 'x'.repeat(2000) }), bad);
  const keyBad = (e: unknown): boolean => e instanceof CryptoError && e.code === 'key_invalid';
  assert.throws(() => wrapKey(SecretBytes.random(16), SecretBytes.random(32), ctx), keyBad);
  assert.throws(() => unwrapKey(SecretBytes.random(64), 'AAAA', ctx), keyBad);
});
