/**
 * SecretBytes: the one home of key material.
 *
 * The bytes live in a Buffer from Buffer.allocUnsafeSlow, which is allocated outside the V8 heap
 * and outside Node's shared pool, so no other buffer shares its memory and the GC never moves or
 * copies it. Reads are copies (`bytes()`, which the caller must zero) or borrows (`use()`).
 * `dispose()` zeroes the bytes; any later use throws. It prints as `[redacted]` everywhere.
 *
 * Limits (see docs/crypto.md): JavaScript cannot pin memory (no mlock), so the OS may swap it; the
 * bytes do pass through other memory when they arrive (a socket or file read, a JSON string) and
 * when OpenSSL expands a key schedule; strings (base64) holding a key cannot be zeroed at all.
 */
import { randomFillSync, timingSafeEqual } from 'node:crypto';
import { inspect } from 'node:util';
import { CryptoError } from './errors.js';

const REDACTED = '[redacted]';

export class SecretBytes {
  #buf: Buffer | null;

  private constructor(buf: Buffer) {
    this.#buf = buf;
  }

  /** n fresh random bytes from the OS CSPRNG. */
  static random(n: number): SecretBytes {
    const buf = SecretBytes.#alloc(n);
    randomFillSync(buf);
    return new SecretBytes(buf);
  }

  /**
   * A copy of src. With `{ zeroSource: true }` the source is zeroed after the copy, so the
   * caller's buffer no longer holds the key.
   */
  static from(src: Uint8Array, opts: { zeroSource?: boolean } = {}): SecretBytes {
    const buf = SecretBytes.#alloc(src.length);
    buf.set(src);
    if (opts.zeroSource) src.fill(0);
    return new SecretBytes(buf);
  }

  static #alloc(n: number): Buffer {
    if (!Number.isSafeInteger(n) || n < 0 || n > 1 << 20) {
      throw new CryptoError('length_invalid', `a secret must be 0 to 1 MiB long, not ${String(n)}`);
    }
    return Buffer.allocUnsafeSlow(n);
  }

  #live(): Buffer {
    if (this.#buf === null) throw new CryptoError('key_disposed', 'the secret was disposed');
    return this.#buf;
  }

  get length(): number {
    return this.#live().length;
  }

  get disposed(): boolean {
    return this.#buf === null;
  }

  /** A copy of the bytes; the caller owns it and must zero it (`.fill(0)`) when done. */
  bytes(): Buffer {
    const live = this.#live();
    const copy = Buffer.allocUnsafeSlow(live.length);
    live.copy(copy);
    return copy;
  }

  /**
   * Borrows the bytes without a copy for the duration of fn. fn must not keep the buffer nor
   * write to it; for an async fn the borrow lasts until its promise settles.
   */
  use<T>(fn: (bytes: Buffer) => T): T {
    return fn(this.#live());
  }

  /** A new SecretBytes with a copy of bytes [start, end). */
  slice(start: number, end: number): SecretBytes {
    const live = this.#live();
    if (start < 0 || end > live.length || start > end) {
      throw new CryptoError('argument_invalid', 'slice out of range');
    }
    return SecretBytes.from(live.subarray(start, end));
  }

  /** Constant-time comparison (time depends on the lengths only). */
  equals(other: SecretBytes): boolean {
    const a = this.#live();
    const b = other.#live();
    if (a.length !== b.length) return false;
    return timingSafeEqual(a, b);
  }

  /** Zeroes the bytes; later use throws CryptoError 'key_disposed'. Idempotent. */
  dispose(): void {
    if (this.#buf !== null) {
      this.#buf.fill(0);
      this.#buf = null;
    }
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }

  get [Symbol.toStringTag](): string {
    return 'SecretBytes';
  }
}

/** Runs fn with s, then disposes s, also when fn throws or rejects. */
export async function withSecret<T>(s: SecretBytes, fn: (s: SecretBytes) => Promise<T> | T): Promise<T> {
  try {
    return await fn(s);
  } finally {
    s.dispose();
  }
}
