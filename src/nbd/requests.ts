/**
 * Where the transmission phase gets its requests: whole requests, each a parsed header plus, for a
 * WRITE, its payload. Two sources frame the same byte stream:
 * - StreamRequests reads any Duplex through a ByteReader (TLS connections);
 * - SocketRequests (socket-requests.ts) lets the socket read straight into each payload's buffer
 *   (plain Unix and TCP connections).
 * A WRITE longer than MAX_PAYLOAD comes back with its payload dropped unread (`data` null), for the
 * caller to answer EOVERFLOW; a bad magic number rejects with code `protocol`; the end of the
 * connection rejects with code `closed`.
 */
import type { Alloc, ByteReader } from './byte-reader.js';
import { NbdError } from './errors.js';
import { CMD, MAX_PAYLOAD, REQUEST_HEADER_SIZE, REQUEST_MAGIC } from './protocol.js';

export interface NbdRequest {
  readonly flags: number;
  readonly type: number;
  readonly cookieHi: number;
  readonly cookieLo: number;
  /** Unsafe (> 2^53) offsets are kept as Infinity: always out of range. */
  readonly offset: number;
  readonly length: number;
  /** A WRITE's payload; null for other commands and for a WRITE too long to accept. */
  readonly data: Buffer | null;
  /** Whether `data` came from the allocator passed in (to be given back once the request is done). */
  readonly pooled: boolean;
}

export interface RequestSource {
  /** The next request if it has fully arrived, else undefined (the fast path). */
  nextNow(): NbdRequest | undefined;
  /** The next request, once it has fully arrived. */
  next(): Promise<NbdRequest>;
  /** Stops reading for good; a pending next() rejects with code `closed`. */
  cancel(): void;
  /**
   * Optional: a handler offered each request that arrives while next() waits, before next()
   * gets it. When the handler returns true it has served the request, and next() keeps waiting.
   * Requests queued before the wait never reach it, so arrival order is kept.
   */
  setArrivalHandler?(handler: ((r: NbdRequest) => boolean) | null): void;
  /** Optional: the socket's descriptor, when replies may be sent on it past the stream (sendSome). */
  readonly replyFd?: number;
}

/** The header fields at `at` of `buf`; throws NbdError('protocol') on a bad magic number. */
export function parseRequestHeader(buf: Buffer, at: number): Omit<NbdRequest, 'data' | 'pooled'> {
  if (buf.readUInt32BE(at) !== REQUEST_MAGIC) throw new NbdError('protocol', 'bad request magic');
  const offHi = buf.readUInt32BE(at + 16);
  return {
    flags: buf.readUInt16BE(at + 4),
    type: buf.readUInt16BE(at + 6),
    cookieHi: buf.readUInt32BE(at + 8),
    cookieLo: buf.readUInt32BE(at + 12),
    offset: offHi >= 0x200000 ? Infinity : offHi * 0x100000000 + buf.readUInt32BE(at + 20),
    length: buf.readUInt32BE(at + 24),
  };
}

/**
 * A whole request: the header's fields and the payload. Built as one literal, so that every
 * request has the same hidden class (a spread of the header made V8 build object shapes and
 * look up properties megamorphically on each request).
 */
export function requestOf(h: Omit<NbdRequest, 'data' | 'pooled'>, data: Buffer | null, pooled: boolean): NbdRequest {
  return { flags: h.flags, type: h.type, cookieHi: h.cookieHi, cookieLo: h.cookieLo, offset: h.offset, length: h.length, data, pooled };
}

/** Whether a header announces a payload that follows it, and whether that payload is accepted. */
export function payloadOf(h: { readonly type: number; readonly length: number }): 'none' | 'accept' | 'drop' {
  if (h.type !== CMD.WRITE) return 'none';
  return h.length > MAX_PAYLOAD ? 'drop' : 'accept';
}

/** Requests read through a ByteReader: a payload within one socket chunk is a view of it, else pooled. */
export class StreamRequests implements RequestSource {
  private readonly reader: ByteReader;
  private readonly alloc: Alloc;

  constructor(reader: ByteReader, alloc: Alloc) {
    this.reader = reader;
    this.alloc = alloc;
  }

  nextNow(): NbdRequest | undefined {
    // Only when the header and any payload are both buffered, so nothing is consumed otherwise.
    const h = this.reader.peek(REQUEST_HEADER_SIZE);
    if (h === undefined) return undefined;
    const head = parseRequestHeader(h, 0);
    const kind = payloadOf(head);
    if (kind === 'drop' || (kind === 'accept' && this.reader.available < REQUEST_HEADER_SIZE + head.length)) return undefined;
    this.reader.readNow(REQUEST_HEADER_SIZE);
    if (kind === 'none') return requestOf(head, null, false);
    let pooled = false;
    const data = this.reader.readNow(head.length, (n) => ((pooled = true), this.alloc(n))) as Buffer;
    return requestOf(head, data, pooled);
  }

  async next(): Promise<NbdRequest> {
    const head = parseRequestHeader(await this.reader.read(REQUEST_HEADER_SIZE), 0);
    const kind = payloadOf(head);
    if (kind === 'none') return requestOf(head, null, false);
    if (kind === 'drop') {
      await this.reader.skip(head.length);
      return requestOf(head, null, false);
    }
    let pooled = false;
    const data = await this.reader.read(head.length, (n) => ((pooled = true), this.alloc(n)));
    return requestOf(head, data, pooled);
  }

  cancel(): void {
    this.reader.cancel();
  }
}
