/**
 * Fuzzing the TTLV decoder in process (issue 2, "Bad input"): 100,000 mutants of valid messages,
 * fixed seed. Every mutant either decodes (and then re-encodes to a message that decodes to the
 * same items) or fails with a KmipError of code invalid_message / message_too_large: never another
 * exception, never a hang (the test has a deadline).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeTtlv, encodeTtlv, isKmipError } from '../../src/kmip/index.js';
import { Prng, mutate } from './mutate.js';
import { seedMessages } from './seeds.js';

export const FUZZ_SEED = 0x2024c0de;
const COUNT = 100_000;

test(`decoder: ${COUNT} mutated messages (seed 0x${FUZZ_SEED.toString(16)}) give items or a KMIP error`, { timeout: 60_000 }, () => {
  const seeds = seedMessages();
  const rng = new Prng(FUZZ_SEED);
  const limits = { maxMessageBytes: 64 * 1024, maxDepth: 16 };
  let decoded = 0;
  const codes = new Map<string, number>();
  let slowest = 0;
  for (let i = 0; i < COUNT; i++) {
    const m = mutate(rng, seeds);
    const t0 = performance.now();
    try {
      const item = decodeTtlv(m.bytes, limits);
      decoded++;
      const again = encodeTtlv(item);
      assert.deepEqual(decodeTtlv(again, limits), item, `mutant ${i}: re-encoding changed the items`);
    } catch (err) {
      if (!isKmipError(err) || (err.code !== 'invalid_message' && err.code !== 'message_too_large')) {
        assert.fail(`mutant ${i} (${m.mutations.join('+')} of seed ${m.seedIndex}): unexpected ${String(err)}\n${m.bytes.toString('hex').slice(0, 400)}`);
      }
      codes.set(err.code, (codes.get(err.code) ?? 0) + 1);
    }
    slowest = Math.max(slowest, performance.now() - t0);
  }
  // Both outcomes must occur, or the mutator is not exercising the decoder.
  assert.ok(decoded > 1000, `only ${decoded} mutants decoded`);
  assert.ok((codes.get('invalid_message') ?? 0) > 10_000, 'too few malformed mutants');
  assert.ok(slowest < 1000, `one mutant took ${slowest.toFixed(0)} ms to decode`);
});
