/**
 * Exact-length reads from a socket. Bytes arriving are queued as the chunks the socket delivered;
 * a read that fits in the first chunk returns a view of it (no copy). The socket is paused while
 * more than `highWater` bytes wait unread, so a client can never make the server buffer more than
 * that plus the one message being read, whose length the caller has already bounded.
 */
import type { Duplex } from 'node:stream';
import { NbdError } from './errors.js';
import { PendingRead } from './pending-read.js';

/** Where a read that spans chunks gathers its bytes (default: a new Buffer); also where request sources put WRITE payloads. */
export type Alloc = (n: number) => Buffer;

export class ByteReader {
  private readonly chunks: Buffer[] = [];
  private head = 0;
  private buffered = 0;
  private readonly pending = new PendingRead<Buffer, { readonly n: number; readonly alloc: Alloc | undefined }>();
  private stream: Duplex | null = null;
  private readonly highWater: number;

  private readonly onData = (chunk: Buffer): void => {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const w = this.pending.waiter;
    if (w !== null && this.buffered >= w.n) this.pending.settle(this.take(w.n, w.alloc));
    if (this.buffered >= this.highWater && this.pending.waiter === null) this.stream?.pause();
  };

  private readonly onEnd = (): void => {
    this.fail(new NbdError('closed', 'the client closed the connection'));
  };

  private readonly onError = (err: Error): void => {
    this.fail(new NbdError('closed', 'connection error', { cause: err }));
  };

  constructor(highWater: number) {
    this.highWater = highWater;
  }

  /** Starts reading from `stream`. */
  attach(stream: Duplex): void {
    this.stream = stream;
    stream.on('data', this.onData);
    stream.on('end', this.onEnd);
    stream.on('close', this.onEnd);
    stream.on('error', this.onError);
  }

  /** Stops reading (for a TLS upgrade) and returns how many bytes were left unread. */
  detach(): number {
    const s = this.stream;
    if (s !== null) {
      s.pause();
      s.off('data', this.onData);
      s.off('end', this.onEnd);
      s.off('close', this.onEnd);
      s.off('error', this.onError);
      this.stream = null;
    }
    return this.buffered;
  }

  /**
   * Stops reading and hands over the bytes received but not read: the rest of the stream is read
   * by someone else (socket-requests.ts). Later reads reject with code `closed`.
   */
  detachRest(): Buffer[] {
    this.detach();
    const rest = this.chunks.splice(0);
    if (rest.length > 0 && this.head > 0) rest[0] = (rest[0] as Buffer).subarray(this.head);
    this.head = 0;
    this.buffered = 0;
    this.fail(new NbdError('closed', 'reading moved to another reader'));
    return rest;
  }

  /** Bytes received and not yet read. */
  get available(): number {
    return this.buffered;
  }

  /** The first n unread bytes without consuming them (a copy when they span chunks), or undefined. */
  peek(n: number): Buffer | undefined {
    if (this.buffered < n) return undefined;
    const first = this.chunks[0] as Buffer;
    if (first.length - this.head >= n) return first.subarray(this.head, this.head + n);
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    for (let i = 0, at = this.head; filled < n; i++, at = 0) {
      const c = this.chunks[i] as Buffer;
      filled += c.copy(out, filled, at, Math.min(c.length, at + n - filled));
    }
    return out;
  }

  /** Stops reading for good; a pending read rejects with code `closed`. */
  cancel(): void {
    this.detach();
    this.fail(new NbdError('closed', 'reading stopped'));
  }

  /**
   * Exactly n bytes, or a rejection with code `closed` when the stream ends first. Bytes within one
   * socket chunk come back as a view of it; bytes spanning chunks are gathered into `alloc(n)`.
   */
  read(n: number, alloc?: Alloc): Promise<Buffer> {
    if (this.buffered >= n) return Promise.resolve(this.take(n, alloc));
    const p = this.pending.wait({ n, alloc });
    if (this.pending.waiter !== null) this.stream?.resume();
    return p;
  }

  /** Exactly n bytes if they are already buffered, else undefined (the fast path). */
  readNow(n: number, alloc?: Alloc): Buffer | undefined {
    return this.buffered >= n ? this.take(n, alloc) : undefined;
  }

  /** Reads and drops n bytes, holding at most 64 KiB of them at a time. */
  async skip(n: number): Promise<void> {
    for (let left = n; left > 0; ) {
      const k = Math.min(left, 65536);
      await this.read(k);
      left -= k;
    }
  }

  private fail(err: Error): void {
    this.pending.fail(err);
  }

  private take(n: number, alloc: Alloc = Buffer.allocUnsafe): Buffer {
    this.buffered -= n;
    const first = this.chunks[0];
    if (first !== undefined && first.length - this.head >= n) {
      const out = first.subarray(this.head, this.head + n);
      this.head += n;
      if (this.head === first.length) {
        this.chunks.shift();
        this.head = 0;
      }
      this.resumeIfLow();
      return out;
    }
    const out = alloc(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0] as Buffer;
      const k = Math.min(c.length - this.head, n - filled);
      c.copy(out, filled, this.head, this.head + k);
      filled += k;
      this.head += k;
      if (this.head === c.length) {
        this.chunks.shift();
        this.head = 0;
      }
    }
    this.resumeIfLow();
    return out;
  }

  private resumeIfLow(): void {
    if (this.buffered < this.highWater && this.stream !== null && this.stream.isPaused()) this.stream.resume();
  }
}
