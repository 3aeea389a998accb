import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { argon2 } from './argon2.js';
import { blake2b } from './blake2b.js';
import { argon2Async } from './kdf.js';
import { LuksError } from './errors.js';

test('BLAKE2b matches OpenSSL blake2b512 and keyed-length digests', () => {
  for (const n of [0, 1, 127, 128, 129, 1024, 3000]) {
    const data = Buffer.from(Array.from({ length: n }, (_, i) => (i * 31) & 255));
    assert.equal(
      blake2b(64, data).toString('hex'),
      createHash('blake2b512').update(data).digest('hex'),
      `length ${n}`,
    );
  }
  // Source: Python's hashlib.blake2b(b'abc', digest_size=32) (the digest length is a parameter, not a truncation).
  assert.equal(
    blake2b(32, Buffer.from('abc')).toString('hex'),
    'bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319',
  );
});

// Source: Debian libargon2-1 (0~20190702), argon2id_hash_raw / argon2i_hash_raw called through Python ctypes.
const VECTORS = [
  {
    params: { type: 'argon2id', time: 3, memory: 32, parallelism: 4, tagLength: 32 },
    password: Buffer.alloc(32, 1),
    salt: Buffer.alloc(16, 2),
    tag: '03aab965c12001c9d7d0d2de33192c0494b684bb148196d73c1df1acaf6d0c2e',
  },
  {
    params: { type: 'argon2id', time: 2, memory: 256, parallelism: 2, tagLength: 64 },
    password: Buffer.from('password'),
    salt: Buffer.from('somesaltsomesalt'),
    tag: 'f4b98b194081d9d9f146fb298bb24e3562ae0d3a1eb1683ad524e2eafefbc859bb0703c2d6555798a64250303d1f2cef5e78962239dd88fe2e5c52cd81b1f4ad',
  },
  {
    params: { type: 'argon2i', time: 1, memory: 64, parallelism: 1, tagLength: 100 },
    password: Buffer.from('pw'),
    salt: Buffer.from('saltsaltsaltsalt'),
    tag: '4706a6d71dd2d7e27174ad80e4d1c379ddffa721908547809546509c2a7131a7f185f5d73dc59797decd4587b9a312cccfeface6147ea8a3f1d2151bef480494ca77c833d0341c8aa6fce56fabcf66caeb518b900a84c56bea9b9a8fd171c0c3222252fe',
  },
] as const;

test('argon2 matches libargon2 for argon2id and argon2i, several lanes, passes and tag lengths', () => {
  for (const v of VECTORS) assert.equal(argon2(v.params, v.password, v.salt).toString('hex'), v.tag);
});

test('argon2 in a worker gives the same tag and refuses impossible parameters', async () => {
  const v = VECTORS[1];
  assert.equal((await argon2Async(v.params, v.password, v.salt)).toString('hex'), v.tag);
  assert.equal(v.password.toString(), 'password', "the caller's password is left as it was");
  const notSupported = (e: unknown): boolean => e instanceof LuksError && e.code === 'not_supported';
  await assert.rejects(
    argon2Async({ ...v.params, memory: 8 * 1024 * 1024 }, v.password, v.salt),
    notSupported,
  );
  await assert.rejects(argon2Async({ ...v.params, memory: 4 }, v.password, v.salt), notSupported);
  await assert.rejects(argon2Async({ ...v.params, time: 0 }, v.password, v.salt), notSupported);
});
