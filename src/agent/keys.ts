/**
 * The agent's keys, in memory only (DESIGN.md §1, §6 step 6): KEKs by {keyProviderId, keyId}, as
 * center pushes them, and the host key that seals crash dumps. Nothing here is ever written; after
 * a restart the cache is empty and the VMs that need a KEK are locked.
 */
import type { SecretBytes } from '../crypto/index.js';
import { AgentError } from './errors.js';

export interface KeyRef {
  readonly keyProviderId: string;
  readonly keyId: string;
}

function refKey(r: KeyRef): string {
  return `${r.keyProviderId}\u0000${r.keyId}`;
}

export class KeyCache {
  readonly #keks = new Map<string, { ref: KeyRef; key: SecretBytes }>();
  #hostKey: { ref: KeyRef; key: SecretBytes } | undefined;

  /** Adds (or replaces) a KEK; takes ownership of `key`. */
  add(ref: KeyRef, key: SecretBytes): void {
    if (key.length !== 32) {
      key.dispose();
      throw new AgentError('invalid_request', 'a KEK is a 32-byte AES-256 key');
    }
    const k = refKey(ref);
    const old = this.#keks.get(k);
    // The same key again (a heartbeat, a second VM of a shared KEK): keep the one operations may be using.
    if (old?.key.equals(key)) {
      key.dispose();
      return;
    }
    old?.key.dispose();
    this.#keks.set(k, { ref: { keyProviderId: ref.keyProviderId, keyId: ref.keyId }, key });
  }

  has(ref: KeyRef): boolean {
    return this.#keks.has(refKey(ref));
  }

  /** The KEK, borrowed: the cache keeps ownership. Throws key_missing naming the key ID. */
  get(ref: KeyRef): SecretBytes {
    const e = this.#keks.get(refKey(ref));
    if (!e) throw new AgentError('key_missing', `key ${ref.keyId} of provider ${ref.keyProviderId} is not available on this host`);
    return e.key;
  }

  remove(ref: KeyRef): boolean {
    const k = refKey(ref);
    const e = this.#keks.get(k);
    if (!e) return false;
    e.key.dispose();
    this.#keks.delete(k);
    return true;
  }

  list(): KeyRef[] {
    return [...this.#keks.values()].map((e) => e.ref);
  }

  setHostKey(ref: KeyRef, key: SecretBytes): void {
    if (key.length !== 32) {
      key.dispose();
      throw new AgentError('invalid_request', 'a host key is a 32-byte AES-256 key');
    }
    this.#hostKey?.key.dispose();
    this.#hostKey = { ref, key };
  }

  get hostKey(): { ref: KeyRef; key: SecretBytes } | undefined {
    return this.#hostKey;
  }

  /** Drops every key (shutdown). */
  clear(): void {
    for (const e of this.#keks.values()) e.key.dispose();
    this.#keks.clear();
    this.#hostKey?.key.dispose();
    this.#hostKey = undefined;
  }
}
