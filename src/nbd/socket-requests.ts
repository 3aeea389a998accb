/**
 * Requests from a plain (not TLS) socket, with each WRITE payload read by the kernel straight into
 * the buffer the device will encrypt from. Through a ByteReader, Node reads the socket into a fresh
 * 64 KiB Buffer per read and the payload is then gathered from those: a copy of every written byte
 * on the main thread, plus the allocation, page faults and garbage collection of the chunks.
 *
 * Node lets a net.Socket read into buffers of the caller's choosing (the `onread` option, with a
 * function that picks the buffer for each next read). An accepted socket cannot be given that
 * option, so after the handshake the connection's descriptor is duplicated (native/sys.c), a new
 * net.Socket with `onread` wraps the duplicate, and the handshake's socket is destroyed, which
 * closes only its own descriptor. The bytes the handshake's reader had already received are fed in
 * first, so nothing is lost or reordered.
 *
 * Reads go into a 64 KiB stage, where headers are parsed as they arrive (synchronously, so the
 * buffer for the very next read can be chosen): once a WRITE header is seen its payload buffer is
 * taken from the export's pool, the payload bytes already staged are copied into it, and the rest
 * of the payload is read straight into it. After a large WRITE the next stage read is kept short,
 * so little of the following payload lands in the stage. Reading stops while the requests parsed
 * and not yet taken hold `highWater` bytes or more (or MAX_READY requests), as with ByteReader.
 * A request that completes while next() waits is first offered to the arrival handler (the
 * transmission loop's writeNow), inside the read callback.
 */
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Alloc, ByteReader } from './byte-reader.js';
import { NbdError } from './errors.js';
import { PendingRead } from './pending-read.js';
import { REQUEST_HEADER_SIZE } from './protocol.js';
import { parseRequestHeader, payloadOf, requestOf, type NbdRequest, type RequestSource } from './requests.js';
import { duplicateSocket } from './sys-addon.js';

const STAGE_SIZE = 64 * 1024;
/** The stage read after a WRITE of at least STAGE_SIZE bytes: enough for a header and a small request. */
const SHORT_READ = 4096;
/** A payload with at least this much still to arrive is read straight into its buffer. */
const DIRECT_MIN = 16 * 1024;
/** Parsed requests waiting to be taken before reading stops (bounds header-only floods). */
const MAX_READY = 4096;

type Header = Omit<NbdRequest, 'data' | 'pooled'>;

/** The WRITE whose payload is arriving. */
interface Filling {
  readonly head: Header;
  /** Null when the payload is too long to accept: its bytes are read and dropped. */
  readonly data: Buffer | null;
  got: number;
}

export class SocketRequests implements RequestSource {
  /** The connection's socket from now on: replies are written to it too. */
  readonly socket: Socket;
  private readonly alloc: Alloc;
  private readonly highWater: number;
  private readonly stage = Buffer.allocUnsafe(STAGE_SIZE);
  /** Unparsed bytes are stage[start, end). */
  private start = 0;
  private end = 0;
  private cur: Filling | null = null;
  /** Whether the socket's next read goes into cur.data rather than the stage. */
  private direct = false;
  private shortRead = false;
  private readonly ready: NbdRequest[] = [];
  private readyBytes = 0;
  private paused = false;
  private readonly pending = new PendingRead<NbdRequest>();
  private arrival: ((r: NbdRequest) => boolean) | null = null;
  readonly replyFd: number;

  /** Wraps descriptor `fd` (which it then owns); `rest` are bytes already received, in order. */
  constructor(fd: number, alloc: Alloc, highWater: number, rest: readonly Buffer[]) {
    this.alloc = alloc;
    this.highWater = highWater;
    this.replyFd = fd;
    for (const chunk of rest) this.feed(chunk);
    // `onread` is a documented option of new net.Socket() that this @types/node does not declare.
    const onread = { buffer: (): Buffer => this.nextBuffer(), callback: (n: number): boolean => this.onRead(n) };
    this.socket = new Socket({ fd, readable: true, writable: true, onread } as ConstructorParameters<typeof Socket>[0]);
    const closed = (): void => this.fail(new NbdError('closed', 'the client closed the connection'));
    this.socket.on('end', closed);
    this.socket.on('close', closed);
    this.socket.on('error', (err: Error) => this.fail(new NbdError('closed', 'connection error', { cause: err })));
    // Flowing mode, so that 'end' is emitted at EOF (no data is ever pushed to the stream itself).
    this.socket.resume();
    if (this.mustPause()) this.pause();
  }

  nextNow(): NbdRequest | undefined {
    const r = this.ready.shift();
    if (r === undefined) return undefined;
    this.readyBytes -= r.data?.length ?? 0;
    if (this.paused && !this.mustPause()) {
      this.paused = false;
      this.socket.resume();
    }
    return r;
  }

  next(): Promise<NbdRequest> {
    const r = this.nextNow();
    if (r !== undefined) return Promise.resolve(r);
    return this.pending.wait({});
  }

  setArrivalHandler(handler: ((r: NbdRequest) => boolean) | null): void {
    this.arrival = handler;
  }

  cancel(): void {
    this.fail(new NbdError('closed', 'reading stopped'));
    this.pause();
  }

  /** Bytes received before the socket existed (from the handshake's reader). */
  private feed(chunk: Buffer): void {
    for (let at = 0; at < chunk.length && this.pending.failure === null; ) {
      const k = chunk.copy(this.stage, this.end, at, Math.min(chunk.length, at + STAGE_SIZE - this.end));
      this.end += k;
      at += k;
      this.parse();
    }
  }

  /** The socket read n bytes into the buffer nextBuffer() chose; false stops reading. */
  private onRead(n: number): boolean {
    if (this.direct) {
      const c = this.cur as Filling;
      c.got += n;
      if (c.got === c.head.length) this.finish();
    } else {
      this.end += n;
      this.parse();
    }
    if (!this.mustPause()) return true;
    this.paused = true;
    return false;
  }

  /** Where the socket reads next: the rest of a large payload, else the stage's free space. */
  private nextBuffer(): Buffer {
    const c = this.cur;
    if (c !== null && c.data !== null && c.head.length - c.got >= DIRECT_MIN) {
      this.direct = true;
      return c.data.subarray(c.got);
    }
    this.direct = false;
    const room = this.shortRead ? SHORT_READ : STAGE_SIZE;
    return this.stage.subarray(this.end, Math.min(STAGE_SIZE, this.end + room));
  }

  /** Consumes every staged byte it can; at most a partial header is left, moved to the front. */
  private parse(): void {
    while (this.pending.failure === null) {
      const c = this.cur;
      if (c !== null) {
        const k = Math.min(this.end - this.start, c.head.length - c.got);
        if (c.data !== null) this.stage.copy(c.data, c.got, this.start, this.start + k);
        c.got += k;
        this.start += k;
        if (c.got < c.head.length) break;
        this.finish();
        continue;
      }
      if (this.end - this.start < REQUEST_HEADER_SIZE) break;
      let head: Header;
      try {
        head = parseRequestHeader(this.stage, this.start);
      } catch (err) {
        this.fail(err as Error);
        break;
      }
      this.start += REQUEST_HEADER_SIZE;
      const kind = payloadOf(head);
      if (kind === 'none') this.push(requestOf(head, null, false));
      else this.cur = { head, data: kind === 'accept' ? this.alloc(head.length) : null, got: 0 };
    }
    if (this.start === this.end) {
      this.start = 0;
      this.end = 0;
    } else if (this.start > 0) {
      this.stage.copy(this.stage, 0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
  }

  private finish(): void {
    const c = this.cur as Filling;
    this.cur = null;
    this.direct = false;
    this.shortRead = c.head.length >= STAGE_SIZE;
    this.push(requestOf(c.head, c.data, c.data !== null));
  }

  private push(r: NbdRequest): void {
    if (this.pending.waiter !== null) {
      if (this.arrival !== null && this.arrival(r)) return;
      this.pending.settle(r);
      return;
    }
    this.ready.push(r);
    this.readyBytes += r.data?.length ?? 0;
  }

  private mustPause(): boolean {
    return this.pending.failure !== null || this.readyBytes >= this.highWater || this.ready.length >= MAX_READY;
  }

  private pause(): void {
    this.paused = true;
    this.socket.pause();
  }

  private fail(err: Error): void {
    this.pending.fail(err);
  }
}

/** A plain socket's duplicated descriptor, and every byte already received on it, in order. */
export interface DetachedSocket {
  readonly fd: number;
  readonly rest: Buffer[];
}

/**
 * Takes a plain socket's connection away from its Socket after the handshake: duplicates the
 * descriptor, collects what was already received, and destroys the Socket (which closes only its
 * own descriptor). Null, with the socket untouched, for a TLS stream, without the system-call
 * addon, or with a handshake reply still queued in Node (the old socket's writes must all have
 * reached the kernel before it is destroyed).
 */
export function detachSocket(stream: Duplex, reader: ByteReader): DetachedSocket | null {
  if (!(stream instanceof Socket) || 'encrypted' in stream || stream.destroyed || stream.writableLength > 0) return null;
  const fd = duplicateSocket(stream);
  if (fd === null) return null;
  // Everything already received: the reader's chunks, then what Node buffered in the stream itself.
  const rest = reader.detachRest();
  for (let c: unknown; (c = stream.read()) !== null; ) rest.push(c as Buffer);
  stream.destroy();
  return { fd, rest };
}

/** Moves a plain socket's transmission phase onto a SocketRequests in this thread; null as detachSocket. */
export function openSocketRequests(stream: Duplex, reader: ByteReader, alloc: Alloc, highWater: number): SocketRequests | null {
  const d = detachSocket(stream, reader);
  return d === null ? null : new SocketRequests(d.fd, alloc, highWater, d.rest);
}
