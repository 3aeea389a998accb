/**
 * Reused buffers for one device's requests (READ replies and WRITE payloads), shared by all the
 * connections to it (nbd-export.ts). A fresh 256 KiB Buffer per read cost the server about a third
 * of its CPU in allocation, page faults and garbage collection; here a reply buffer goes back to the
 * pool once the socket has taken its bytes (a write payload once the device has it), and the next
 * request of the same length fills it again. A pool per connection was not enough: nbdcopy opens
 * four connections per copy, and each new one faulted in tens of MiB of fresh pages.
 * Every byte of a buffer handed out is overwritten (by the read, or by the payload's bytes) before
 * it is used, so nothing of an earlier request can leak into a later one.
 *
 * Buffers hold guest plaintext: the pool keeps at most `maxKept` of them, zeroes and drops all of
 * them after `idleMs` without a take, and on clear() (when the server closes).
 */

/** Lengths worth pooling: whole 4 KiB pages (at least one) up to 4 MiB (nbdcopy and QEMU use 64 KiB-2 MiB). */
const PAGE = 4096;
const MAX_POOLED = 4 * 1024 * 1024;

export class RequestBuffers {
  readonly #free = new Map<number, Buffer[]>();
  readonly #maxKept: number;
  readonly #idleMs: number;
  #kept = 0;
  #taken = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(opts: { maxKept?: number; idleMs?: number } = {}) {
    this.#maxKept = opts.maxKept ?? 64;
    this.#idleMs = opts.idleMs ?? 2000;
  }

  /** How many buffers the pool holds now. */
  get kept(): number {
    return this.#kept;
  }

  /** A buffer of exactly `length` bytes (contents undefined): the caller must overwrite all of it. */
  take(length: number): Buffer {
    this.#taken = true;
    const list = this.#free.get(length);
    const b = list?.pop();
    if (b === undefined) return Buffer.allocUnsafe(length);
    this.#kept--;
    return b;
  }

  /** Gives a buffer back once nothing reads it any more (the socket wrote it, or the read failed). */
  give(buf: Buffer): void {
    const n = buf.length;
    if (n === 0 || n % PAGE !== 0 || n > MAX_POOLED || this.#kept >= this.#maxKept) return;
    let list = this.#free.get(n);
    if (list === undefined) {
      list = [];
      this.#free.set(n, list);
    }
    list.push(buf);
    this.#kept++;
    this.#armIdle();
  }

  /** Zeroes and drops every kept buffer. */
  clear(): void {
    for (const list of this.#free.values()) for (const b of list) b.fill(0);
    this.#free.clear();
    this.#kept = 0;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #armIdle(): void {
    if (this.#timer !== undefined) return;
    this.#taken = false;
    this.#timer = setInterval(() => {
      if (this.#taken) this.#taken = false;
      else this.clear();
    }, this.#idleMs);
    this.#timer.unref();
  }
}
