// Sector-batch calls of both engines, checked against the single-unit call (which the KATs pin).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SecretBytes } from '../secret-bytes.js';
import { CryptoError } from '../errors.js';
import { seededBytes } from '../testdata/seeded-bytes.js';
import { createXtsKey, type XtsKey } from './xts-key.js';
import { getFallbackXtsEngine, getNativeXtsEngine, getXtsEngine } from './select.js';
import type { XtsEngine, XtsSectorSize } from './engine.js';

function engines(): XtsEngine[] {
  const out: XtsEngine[] = [getFallbackXtsEngine()];
  const native = getNativeXtsEngine();
  if (native !== null) {
    out.push(native, getNativeXtsEngine({ parallel: 4, splitBytes: 4096 }) ?? native);
    out.push(getNativeXtsEngine({ inlineBytes: 0 }) ?? native, getNativeXtsEngine({ inlineBytes: 1 << 30 }) ?? native);
  }
  return out;
}

function fixedKey(seed: string): XtsKey {
  const s = SecretBytes.from(seededBytes(seed, 64), { zeroSource: true });
  const k = createXtsKey(s);
  s.dispose();
  return k;
}

function tweakOf(unit: bigint): Buffer {
  const t = Buffer.alloc(16);
  t.writeBigUInt64LE(unit, 0);
  return t;
}

/** The expected result, sector by sector through the single-unit call. */
function bySingleUnit(engine: XtsEngine, key: XtsKey, data: Uint8Array, size: XtsSectorSize, first: bigint, enc: boolean): Buffer {
  const out = Buffer.alloc(data.length);
  for (let off = 0, u = first; off < data.length; off += size, u += BigInt(size / 512)) {
    const part = data.subarray(off, off + size);
    out.set(enc ? engine.encryptUnit(key, tweakOf(u), part) : engine.decryptUnit(key, tweakOf(u), part), off);
  }
  return out;
}

for (const size of [512, 4096] as const) {
  test(`batch of ${size}-byte sectors equals the single-unit call, on every engine, in place and into out`, async () => {
    const key = fixedKey(`batch-${size}`);
    const plain = seededBytes(`plain-${size}`, 64 * size);
    const first = 2048n + 3n; // an iv_tweak that is not a multiple of 8, plus an offset
    const expected = bySingleUnit(getFallbackXtsEngine(), key, plain, size, first, true);
    assert.notDeepEqual(expected, plain);
    for (const engine of engines()) {
      const out = Buffer.alloc(plain.length);
      await engine.encrypt(key, plain, { sectorSize: size, firstUnit: first, out });
      assert.equal(out.equals(expected), true, `${engine.name} encrypt into out`);
      const inPlace = Buffer.from(plain);
      await engine.encrypt(key, inPlace, { sectorSize: size, firstUnit: first });
      assert.equal(inPlace.equals(expected), true, `${engine.name} encrypt in place`);
      await engine.decrypt(key, inPlace, { sectorSize: size, firstUnit: first });
      assert.equal(inPlace.equals(plain), true, `${engine.name} decrypt in place`);
      // Small batches (which the native engine runs inline by default) give the same sectors.
      for (const n of [1, 2, 4]) {
        const small = Buffer.from(plain.subarray(3 * size, (3 + n) * size));
        await engine.encrypt(key, small, { sectorSize: size, firstUnit: first + BigInt(3 * (size / 512)) });
        assert.equal(small.equals(expected.subarray(3 * size, (3 + n) * size)), true, `${engine.name} ${n} sectors`);
      }
      // A batch that starts in the middle gives the same sectors as the whole batch.
      const tail = Buffer.from(plain.subarray(5 * size));
      await engine.encrypt(key, tail, { sectorSize: size, firstUnit: first + BigInt(5 * (size / 512)) });
      assert.equal(tail.equals(expected.subarray(5 * size)), true, `${engine.name} partial batch`);
    }
    assert.deepEqual(bySingleUnit(getFallbackXtsEngine(), key, expected, size, first, false), plain);
    key.dispose();
  });
}

test('4096-byte sectors: the IV counts 512-byte units (sector k uses firstUnit + 8k)', async () => {
  const key = fixedKey('iv-units');
  const plain = seededBytes('iv-plain', 3 * 4096);
  const engine = getXtsEngine();
  await engine.encrypt(key, plain, { sectorSize: 4096, firstUnit: 0n });
  const sector2 = getFallbackXtsEngine().encryptUnit(key, tweakOf(16n), seededBytes('iv-plain', 3 * 4096).subarray(8192));
  assert.deepEqual(Buffer.from(sector2), plain.subarray(8192));
  key.dispose();
});

test('a large batch split across threads equals the single-threaded result', async () => {
  const native = getNativeXtsEngine({ parallel: 1 });
  const split = getNativeXtsEngine({ parallel: 4, splitBytes: 64 * 1024 });
  if (native === null || split === null) return; // the KAT test reports a missing addon
  const key = fixedKey('split');
  const data = seededBytes('split-data', 4 << 20);
  const a = Buffer.from(data);
  const b = Buffer.from(data);
  await Promise.all([
    native.encrypt(key, a, { sectorSize: 4096, firstUnit: 1n << 40n }),
    split.encrypt(key, b, { sectorSize: 4096, firstUnit: 1n << 40n }),
  ]);
  assert.equal(a.equals(b), true);
  assert.equal(a.equals(data), false);
  key.dispose();
});

test('bad batches get specific errors on every engine', async () => {
  const key = fixedKey('bad');
  for (const engine of engines()) {
    const code = (c: string) => (e: unknown) => e instanceof CryptoError && e.code === c;
    await assert.rejects(engine.encrypt(key, Buffer.alloc(1000), { sectorSize: 512, firstUnit: 0n }), code('length_invalid'));
    await assert.rejects(engine.encrypt(key, Buffer.alloc(4096), { sectorSize: 1024 as XtsSectorSize, firstUnit: 0n }), code('argument_invalid'));
    await assert.rejects(engine.encrypt(key, Buffer.alloc(512), { sectorSize: 512, firstUnit: -1n }), code('argument_invalid'));
    await assert.rejects(engine.encrypt(key, Buffer.alloc(1024), { sectorSize: 512, firstUnit: (1n << 64n) - 1n }), code('argument_invalid'));
    await assert.rejects(engine.encrypt(key, Buffer.alloc(512), { sectorSize: 512, firstUnit: 0n, out: Buffer.alloc(511) }), code('length_invalid'));
    assert.throws(() => engine.encryptUnit(key, Buffer.alloc(15), Buffer.alloc(16)), code('argument_invalid'));
    assert.throws(() => engine.encryptUnit(key, Buffer.alloc(16), Buffer.alloc(24)), code('length_invalid'));
    await engine.encrypt(key, Buffer.alloc(0), { sectorSize: 4096, firstUnit: 0n });
  }
  key.dispose();
});

test('getXtsEngine says which engine it is', () => {
  const e = getXtsEngine();
  assert.equal(e.name, getNativeXtsEngine() === null ? 'node' : 'native');
  assert.equal(getFallbackXtsEngine().name, 'node');
});
