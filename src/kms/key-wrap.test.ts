import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unwrapKey, wrapKey } from './key-wrap.js';

// RFC 3394 §4.1: wrap 128 bits of key data with a 128-bit KEK.
const KEK = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
const DATA = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const WRAPPED = '1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5';

// RFC 5649 §6: wrap 20 octets with a 192-bit KEK.
const KEK5649 = Buffer.from('5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8', 'hex');
const DATA5649 = Buffer.from('c37b7e6492584340bed12207808941155068f738', 'hex');
const WRAPPED5649 = '138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a';

test('key wrap: RFC 3394 and RFC 5649 known answers', () => {
  assert.equal(wrapKey(KEK, DATA).toString('hex'), WRAPPED);
  assert.deepEqual(unwrapKey(KEK, Buffer.from(WRAPPED, 'hex'), false), DATA);
  assert.equal(wrapKey(KEK5649, DATA5649).toString('hex'), WRAPPED5649);
  assert.deepEqual(unwrapKey(KEK5649, Buffer.from(WRAPPED5649, 'hex'), true), DATA5649);
});

test('key wrap: a flipped byte or a wrong key fails with one message', () => {
  const bad = Buffer.from(WRAPPED, 'hex');
  bad[3] = (bad[3] as number) ^ 1;
  assert.throws(() => unwrapKey(KEK, bad, false), { code: 'cryptographic_failure', message: 'the key could not be unwrapped' });
  const other = Buffer.alloc(16, 7);
  assert.throws(() => unwrapKey(other, Buffer.from(WRAPPED, 'hex'), false), { code: 'cryptographic_failure' });
});
