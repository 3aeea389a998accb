/**
 * An XTS key: AES-256-XTS takes 64 bytes, two AES-256 keys (data key, tweak key).
 *
 * createXtsKey rejects any other length and a key whose halves are equal (IEEE 1619-2007 §5.1
 * and NIST SP 800-38E require distinct keys; OpenSSL refuses them too). The key keeps its own
 * copy of the bytes: the caller may dispose its SecretBytes, and must dispose the XtsKey.
 *
 * AES-128-XTS (32-byte keys, what cryptsetup makes with --key-size 256) is accepted only when
 * asked for explicitly with `{ allowAes128: true }`: for reading such volumes and for the
 * IEEE 1619 vectors 2-9.
 */
import { timingSafeEqual } from 'node:crypto';
import { CryptoError } from '../errors.js';
import type { SecretBytes } from '../secret-bytes.js';

export type XtsCipherName = 'aes-256-xts' | 'aes-128-xts';

export class XtsKey {
  readonly #secret: SecretBytes;
  readonly cipher: XtsCipherName;

  /** Use createXtsKey. */
  private constructor(secret: SecretBytes, cipher: XtsCipherName) {
    this.#secret = secret;
    this.cipher = cipher;
  }

  static create(secret: SecretBytes, opts: { allowAes128?: boolean } = {}): XtsKey {
    const len = secret.length;
    if (len !== 64 && !(len === 32 && opts.allowAes128 === true)) {
      throw new CryptoError('key_invalid', `an XTS key must be 64 bytes (AES-256-XTS), not ${len}`);
    }
    const half = len / 2;
    const equal = secret.use((b) => timingSafeEqual(b.subarray(0, half), b.subarray(half)));
    if (equal) throw new CryptoError('key_invalid', 'the two halves of an XTS key must differ');
    return new XtsKey(secret.slice(0, len), len === 64 ? 'aes-256-xts' : 'aes-128-xts');
  }

  get length(): number {
    return this.#secret.length;
  }

  get disposed(): boolean {
    return this.#secret.disposed;
  }

  /** Borrows the raw key bytes (for the engines only). */
  use<T>(fn: (bytes: Buffer) => T): T {
    return this.#secret.use(fn);
  }

  dispose(): void {
    this.#secret.dispose();
  }

  toString(): string {
    return '[redacted]';
  }

  toJSON(): string {
    return '[redacted]';
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[redacted]';
  }
}

/** Makes an XTS key from a 64-byte secret (a copy; the caller still owns secret). */
export function createXtsKey(secret: SecretBytes, opts: { allowAes128?: boolean } = {}): XtsKey {
  return XtsKey.create(secret, opts);
}
