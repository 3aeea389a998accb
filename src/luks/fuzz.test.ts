/** The parser against random mutations (fixed seeds): every outcome is a header or a LuksError. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readLuks2Header } from './read-header.js';
import { LuksError } from './errors.js';
import { addPassphraseKeyslot } from './add-keyslot.js';
import { openPassphraseKeyslot } from './open-keyslot.js';
import { prng } from '../../test/support/cli.js';
import {
  fixedKey,
  imageBytes,
  imageFile,
  rewriteCopy,
  secret,
  tempDir,
  testHeader,
} from './test-fixtures.js';

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
      const at =
        rnd() < 0.7 ? Math.floor(rnd() * 512) + (rnd() < 0.5 ? 0 : 0x4000) : Math.floor(rnd() * 0x8000);
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

/** Every [object, key] leaf under root, to replace one at random. */
function leaves(root: Record<string, unknown>): [Record<string, unknown>, string][] {
  const out: [Record<string, unknown>, string][] = [];
  const stack: Record<string, unknown>[] = [root];
  while (stack.length > 0) {
    const o = stack.pop() as Record<string, unknown>;
    for (const [k, v] of Object.entries(o)) {
      out.push([o, k]);
      if (typeof v === 'object' && v !== null) stack.push(v as Record<string, unknown>);
    }
  }
  return out;
}

const HOSTILE: unknown[] = [
  0,
  -1,
  1,
  7,
  2 ** 53,
  1e300,
  0.5,
  '0',
  '-1',
  '7',
  'dynamic',
  '99999999999999999999',
  '16777216',
  null,
  [],
  {},
  ['0'],
  'abc',
  true,
  4000,
  1,
  512,
  4096,
  'aes-xts-plain64',
  'aes-cbc-essiv:sha256',
  'sha1',
  'nohash',
  'argon2id',
  'pbkdf2',
  'luks2',
  'raw',
  'AAAA',
  'AA==',
  '',
];

test('hostile values anywhere in a header with a keyslot never crash reading or opening it', async () => {
  const key = fixedKey('fuzz-open');
  const created = await testHeader(key);
  const img = imageBytes(created);
  const { dir, cleanup } = await tempDir();
  const fh = await imageFile(dir, 'fuzz.img', img);
  try {
    const withSlot = await addPassphraseKeyslot(fh, created.header, key, secret('fuzz'), {
      iterations: 1000,
      sync: false,
    });
    await fh.read(img, 0, 0x8000 + 258048, 0);
    const rnd = prng(99);
    const outcomes = new Map<string, number>();
    for (let i = 0; i < 150; i++) {
      const json = structuredClone(withSlot.json) as unknown as Record<string, unknown>;
      const all = leaves(json);
      for (let n = 1 + Math.floor(rnd() * 2); n > 0; n--) {
        const [o, k] = all[Math.floor(rnd() * all.length)]!;
        o[k] = structuredClone(HOSTILE[Math.floor(rnd() * HOSTILE.length)]);
      }
      const text = JSON.stringify(json);
      rewriteCopy(img, withSlot, 'primary', text);
      rewriteCopy(img, withSlot, 'secondary', text);
      let outcome: string;
      try {
        const h = await readLuks2Header(img);
        const { volumeKey } = await openPassphraseKeyslot(h, img, secret('fuzz'));
        outcome = volumeKey.equals(key) ? 'opened' : 'wrong key';
        volumeKey.dispose();
      } catch (err) {
        assert.ok(err instanceof LuksError, `mutation ${i}: ${String(err)}\n${text}`);
        outcome = err.code;
      }
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    assert.equal(
      outcomes.get('wrong key'),
      undefined,
      'a key is only ever returned when it is the volume key',
    );
    assert.ok(outcomes.has('opened') && outcomes.has('schema_invalid'), JSON.stringify([...outcomes]));
  } finally {
    await fh.close();
    await cleanup();
  }
});
