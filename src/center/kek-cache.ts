/**
 * The optional KEK cache of DESIGN §1: off by default (`kekCacheSeconds: 0` in center.json).
 * When on, a KEK fetched from its provider is kept in memory for that many seconds, so pushing it
 * to a second host (or again) within the window needs no KMIP Get. Memory only: empty after a
 * restart; each entry's buffer is zeroed when it expires, is evicted, or the cache closes. Callers
 * get a copy, which they zero themselves.
 */
import type { KeyRef } from './hosts.js';

interface Entry {
  readonly bytes: Buffer;
  readonly timer: NodeJS.Timeout;
}

/** At most this many keys are cached; the oldest is zeroed and dropped first. */
export const KEK_CACHE_MAX_ENTRIES = 10_000;

function refKey(ref: KeyRef): string {
  return `${ref.keyProviderId}\u0000${ref.keyId}`;
}

export class KekCache {
  private readonly entries = new Map<string, Entry>();
  private hitCount = 0;
  private missCount = 0;

  constructor(private readonly ttlSeconds: number) {}

  get enabled(): boolean {
    return this.ttlSeconds > 0;
  }

  get size(): number {
    return this.entries.size;
  }

  get stats(): { hits: number; misses: number; size: number } {
    return { hits: this.hitCount, misses: this.missCount, size: this.entries.size };
  }

  /** A copy of the cached key (the caller zeroes it), or undefined. */
  get(ref: KeyRef): Buffer | undefined {
    if (!this.enabled) return undefined;
    const e = this.entries.get(refKey(ref));
    if (!e) {
      this.missCount++;
      return undefined;
    }
    this.hitCount++;
    return Buffer.from(e.bytes);
  }

  /** Keeps a copy of `key` for the TTL (a no-op when the cache is off). */
  put(ref: KeyRef, key: Uint8Array): void {
    if (!this.enabled) return;
    const k = refKey(ref);
    this.drop(k);
    while (this.entries.size >= KEK_CACHE_MAX_ENTRIES) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.drop(oldest.value);
    }
    const bytes = Buffer.alloc(key.length);
    bytes.set(key);
    const timer = setTimeout(() => this.drop(k), this.ttlSeconds * 1000);
    timer.unref();
    this.entries.set(k, { bytes, timer });
  }

  /** Zeroes and forgets one key (e.g. after it was destroyed at the provider). */
  evict(ref: KeyRef): void {
    this.drop(refKey(ref));
  }

  private drop(k: string): void {
    const e = this.entries.get(k);
    if (!e) return;
    clearTimeout(e.timer);
    e.bytes.fill(0);
    this.entries.delete(k);
  }

  /** Zeroes every cached key. */
  close(): void {
    for (const k of [...this.entries.keys()]) this.drop(k);
  }
}
