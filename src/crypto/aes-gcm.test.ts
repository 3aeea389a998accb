// AES-256-GCM primitive: Wycheproof known answers (valid cases), and every single-bit change of
// ciphertext, tag, nonce or AAD is rejected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gcmOpen, gcmSeal } from './aes-gcm.js';

interface WycheproofCase {
  tcId: number;
  key: string;
  iv: string;
  aad: string;
  msg: string;
  ct: string;
  tag: string;
}

const file = new URL('../../../src/crypto/testdata/wycheproof-aes256-gcm.json', import.meta.url);
const cases = (JSON.parse(readFileSync(file, 'utf8')) as { tests: WycheproofCase[] }).tests;
const hex = (s: string): Buffer => Buffer.from(s, 'hex');

test('Wycheproof AES-256-GCM (96-bit IV, 128-bit tag): seal and open give the known answers', () => {
  assert.equal(cases.length, 13);
  for (const c of cases) {
    const sealed = gcmSeal(hex(c.key), hex(c.iv), hex(c.aad), hex(c.msg));
    assert.equal(sealed.toString('hex'), c.ct + c.tag, `tcId ${c.tcId}`);
    assert.equal(gcmOpen(hex(c.key), hex(c.iv), hex(c.aad), sealed).toString('hex'), c.msg, `tcId ${c.tcId}`);
  }
});

test('every flipped bit of ciphertext or tag, and a changed nonce or AAD, fails to open', () => {
  for (const c of cases.filter((x) => x.tcId === 91 || x.tcId === 101)) {
    const sealed = hex(c.ct + c.tag);
    for (let bit = 0; bit < sealed.length * 8; bit++) {
      const bad = Buffer.from(sealed);
      bad[bit >> 3] = (bad[bit >> 3] ?? 0) ^ (1 << (bit & 7));
      assert.throws(() => gcmOpen(hex(c.key), hex(c.iv), hex(c.aad), bad), `tcId ${c.tcId} bit ${bit}`);
    }
    const iv = hex(c.iv);
    iv[0] = (iv[0] ?? 0) ^ 1;
    assert.throws(() => gcmOpen(hex(c.key), iv, hex(c.aad), sealed));
    assert.throws(() => gcmOpen(hex(c.key), hex(c.iv), Buffer.concat([hex(c.aad), Buffer.from([0])]), sealed));
    assert.throws(() => gcmOpen(hex(c.key), hex(c.iv), hex(c.aad), sealed.subarray(0, sealed.length - 1)));
  }
});
