import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeTtlv, encodeTtlv } from '../../src/kmip/index.js';
import { Prng, itemSpans, mutate } from './mutate.js';
import { seedMessages } from './seeds.js';

test('the PRNG is deterministic for a seed and differs across seeds', () => {
  const a = new Prng(42);
  const b = new Prng(42);
  const c = new Prng(43);
  const xs = Array.from({ length: 8 }, () => a.next());
  assert.deepEqual(xs, Array.from({ length: 8 }, () => b.next()));
  assert.notDeepEqual(xs, Array.from({ length: 8 }, () => c.next()));
  for (const x of xs) assert.ok(x >= 0 && x < 1);
});

test('every seed is a valid message the codec round-trips, and its item spans cover it', () => {
  const seeds = seedMessages();
  assert.ok(seeds.length >= 10);
  for (const s of seeds) {
    assert.deepEqual(encodeTtlv(decodeTtlv(s)), s);
    const spans = itemSpans(s);
    assert.equal(spans[0]!.offset, 0);
    assert.equal(spans[0]!.size, s.length);
    assert.ok(spans.length > 5);
  }
});

test('mutants are reproducible from the seed and mostly differ from their seed message', () => {
  const seeds = seedMessages();
  const run = (): string[] => {
    const rng = new Prng(7);
    return Array.from({ length: 200 }, () => mutate(rng, seeds).bytes.toString('hex'));
  };
  const first = run();
  assert.deepEqual(first, run());
  const seedHex = new Set(seeds.map((s) => s.toString('hex')));
  const changed = first.filter((h) => !seedHex.has(h)).length;
  assert.ok(changed > 180, `only ${changed} of 200 mutants differ from a seed`);
});
