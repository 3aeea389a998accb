import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { KekCache } from './kek-cache.js';

const ref = { keyProviderId: 'kms1', keyId: 'k-1' };

test('off by default (0 s): nothing is kept', () => {
  const c = new KekCache(0);
  c.put(ref, randomBytes(32));
  assert.equal(c.enabled, false);
  assert.equal(c.size, 0);
  assert.equal(c.get(ref), undefined);
});

test('on: a copy in, a copy out; evict and close zero the kept bytes', () => {
  const c = new KekCache(60);
  const key = randomBytes(32);
  c.put(ref, key);
  const kept = (c as unknown as { entries: Map<string, { bytes: Buffer }> }).entries.values().next().value!.bytes;
  key.fill(0);
  const out = c.get(ref)!;
  assert.notEqual(out, kept, 'the caller gets its own copy');
  assert.ok(out.some((b) => b !== 0), 'the cache kept its own copy of the key');
  assert.deepEqual(out, kept);
  out.fill(0);
  assert.ok(kept.some((b) => b !== 0), 'zeroing the copy leaves the cache intact');
  assert.equal(c.get({ keyProviderId: 'kms1', keyId: 'other' }), undefined);
  assert.deepEqual(c.stats, { hits: 1, misses: 1, size: 1 });
  c.evict(ref);
  assert.ok(kept.every((b) => b === 0), 'evicted bytes are zeroed');
  c.put(ref, randomBytes(32));
  const again = (c as unknown as { entries: Map<string, { bytes: Buffer }> }).entries.values().next().value!.bytes;
  c.close();
  assert.ok(again.every((b) => b === 0), 'close zeroes every key');
  assert.equal(c.size, 0);
});

test('expiry zeroes the key after the TTL', async () => {
  const c = new KekCache(0.05);
  c.put(ref, randomBytes(32));
  const kept = (c as unknown as { entries: Map<string, { bytes: Buffer }> }).entries.values().next().value!.bytes;
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(c.get(ref), undefined);
  assert.ok(kept.every((b) => b === 0));
});
