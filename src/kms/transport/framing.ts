/**
 * Splits a byte stream into TTLV messages. A message is an 8-byte header (tag 3 bytes, type 1,
 * length 4, big-endian) and `length` bytes of value. The header alone decides whether the message
 * is acceptable: a length beyond the limit is refused at once, before any of the bytes it claims
 * arrive, so a peer cannot make the server wait for (or buffer) a message it will not take.
 */
export const TTLV_HEADER_BYTES = 8;

export type FrameEvent =
  | { readonly kind: 'message'; readonly bytes: Buffer }
  | { readonly kind: 'too-large'; readonly claimed: number }
  | { readonly kind: 'bad-header'; readonly detail: string };

export class TtlvFramer {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private expected = -1;
  private failed = false;

  constructor(private readonly maxMessageBytes: number) {}

  /** Bytes received but not yet part of a returned message. */
  get pending(): number {
    return this.buffered;
  }

  /** True while a message has started but is not complete. */
  get inMessage(): boolean {
    return this.buffered > 0;
  }

  /** Feeds a chunk; returns the complete messages (and at most one final error) it finished. */
  push(chunk: Buffer): FrameEvent[] {
    if (this.failed) return [];
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: FrameEvent[] = [];
    for (;;) {
      if (this.expected < 0) {
        if (this.buffered < TTLV_HEADER_BYTES) break;
        const head = this.peek(TTLV_HEADER_BYTES);
        if (head[0] !== 0x42 || head[3] !== 0x01) {
          this.failed = true;
          out.push({ kind: 'bad-header', detail: 'a KMIP message must be a Structure with a standard tag' });
          break;
        }
        const length = head.readUInt32BE(4);
        const total = TTLV_HEADER_BYTES + length;
        if (total > this.maxMessageBytes) {
          this.failed = true;
          out.push({ kind: 'too-large', claimed: total });
          break;
        }
        if (length % 8 !== 0) {
          this.failed = true;
          out.push({ kind: 'bad-header', detail: 'a Structure length must be a multiple of 8' });
          break;
        }
        this.expected = total;
      }
      if (this.buffered < this.expected) break;
      out.push({ kind: 'message', bytes: this.take(this.expected) });
      this.expected = -1;
    }
    return out;
  }

  private peek(n: number): Buffer {
    const first = this.chunks[0] as Buffer;
    if (first.length >= n) return first;
    const joined = Buffer.concat(this.chunks);
    this.chunks = [joined];
    return joined;
  }

  private take(n: number): Buffer {
    const first = this.peek(n);
    const msg = first.length === n ? first : first.subarray(0, n);
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return msg;
  }
}
