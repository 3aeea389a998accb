/** The parser against random mutations (fixed seeds): every outcome is a header or a LuksError. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readLuks2Header } from './read-header.js';
import { LuksError } from './errors.js';
import { fixedKey, imageBytes, prng, rewriteCopy, testHeader } from './test-fixtures.js';

async function expectHeaderOrLuksError(img: Buffer, what: string): Promise<'ok' | string> {
  try {
    await readLuks2Header(img);
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof LuksError, `${what}: ${String(err)}`);
    return err.code;
  }
}

test('random byte mutations of the binary headers and JSON areas never crash the reader', async () => {
  const created = await testHeader(fixedKey('fuzz'));
  const img = imageBytes(created);
  const pristine = Buffer.from(img.subarray(0, 0x8000));
  const rnd = prng(0xc0ffee);
  const codes = new Map<string, number>();
  for (let i = 0; i < 1500; i++) {
    const n = 1 + Math.floor(rnd() * 8);
    for (let j = 0; j < n; j++) {
      // Mostly the binary headers, sometimes anywhere in the metadata.
      const at = rnd() < 0.7 ? Math.floor(rnd() * 512) + (rnd() < 0.5 ? 0 : 0x4000) : Math.floor(rnd() * 0x8000);
      img[at] = Math.floor(rnd() * 256);
    }
    const code = await expectHeaderOrLuksError(img, `byte mutation ${i}`);
    codes.set(code, (codes.get(code) ?? 0) + 1);
    pristine.copy(img, 0);
  }
  assert.ok(codes.size >= 3, `varied outcomes: ${JSON.stringify([...codes])}`);
});

test('random mutations of the JSON text with valid checksums never crash the reader', async () => {
  const created = await testHeader(fixedKey('fuzz'));
  const img = imageBytes(created);
  const text = JSON.stringify(created.header.json);
  const rnd = prng(1234);
  const alphabet = '{}[]":,0123456789-.eE abcdefghijklmnopqrstuvwxyz\\\u00ff';
  const codes = new Map<string, number>();
  for (let i = 0; i < 600; i++) {
    const chars = [...text];
    const n = 1 + Math.floor(rnd() * 4);
    for (let j = 0; j < n; j++) {
      const at = Math.floor(rnd() * chars.length);
      const op = rnd();
      const c = alphabet[Math.floor(rnd() * alphabet.length)] as string;
      if (op < 0.4) chars[at] = c;
      else if (op < 0.7) chars.splice(at, 1);
      else chars.splice(at, 0, c);
    }
    const mutated = chars.join('');
    rewriteCopy(img, created.header, 'primary', mutated);
    rewriteCopy(img, created.header, 'secondary', mutated);
    const code = await expectHeaderOrLuksError(img, `JSON mutation ${i}: ${mutated}`);
    codes.set(code, (codes.get(code) ?? 0) + 1);
  }
  assert.ok(codes.has('json_invalid') && codes.has('schema_invalid'), JSON.stringify([...codes]));
});
