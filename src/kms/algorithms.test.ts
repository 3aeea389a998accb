import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateSymmetricKey, USAGE } from './algorithms.js';

test('algorithms: generate AES, Triple-DES and SKIPJACK material of the right size', () => {
  const cases: Array<[string, number, number]> = [
    ['AES', 128, 16],
    ['AES', 192, 24],
    ['AES', 256, 32],
    ['DES3', 168, 24],
    ['DES3', 112, 16],
    ['SKIPJACK', 80, 10],
  ];
  for (const [alg, bits, bytes] of cases) {
    const r = generateSymmetricKey(alg, bits, USAGE.Encrypt | USAGE.Decrypt);
    assert.ok(r.ok, `${alg}-${bits}`);
    assert.equal(r.material.length, bytes);
  }
  const a = generateSymmetricKey('AES', 256, 0);
  const b = generateSymmetricKey('AES', 256, 0);
  assert.ok(a.ok && b.ok);
  assert.notDeepEqual(a.material, b.material);
});

test('algorithms: unknown algorithm, wrong length and a signing mask are refused', () => {
  const r1 = generateSymmetricKey('RSA', 2048, 0);
  assert.equal(r1.ok ? null : r1.problem, 'algorithm');
  const r2 = generateSymmetricKey('AES', 100, 0);
  assert.equal(r2.ok ? null : r2.problem, 'length');
  const r3 = generateSymmetricKey('AES', 128, USAGE.Sign);
  assert.equal(r3.ok ? null : r3.problem, 'usage');
});
