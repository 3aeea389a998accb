/**
 * A deliberately minimal NBD client over a raw socket, for sending what real clients never send:
 * bad magic, unknown options and commands, oversized lengths, half a request.
 */
import { connect, type Socket } from 'node:net';

export const IHAVEOPT = 0x49484156454f5054n;
export const REQUEST_MAGIC = 0x25609513;

export class RawClient {
  private buf = Buffer.alloc(0);
  private waiting: { n: number; resolve: (b: Buffer) => void; reject: (e: Error) => void } | null = null;
  private ended = false;
  readonly closed: Promise<void>;

  private constructor(readonly sock: Socket) {
    sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.pump();
    });
    this.closed = new Promise((resolve) => {
      sock.on('close', () => {
        this.ended = true;
        this.pump();
        resolve();
      });
    });
    sock.on('error', () => undefined);
  }

  static open(target: string | number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const sock = typeof target === 'string' ? connect(target) : connect(target, '127.0.0.1');
      sock.once('connect', () => resolve(new RawClient(sock)));
      sock.once('error', reject);
    });
  }

  private pump(): void {
    const w = this.waiting;
    if (w === null) return;
    if (this.buf.length >= w.n) {
      this.waiting = null;
      const out = this.buf.subarray(0, w.n);
      this.buf = this.buf.subarray(w.n);
      w.resolve(out);
    } else if (this.ended) {
      this.waiting = null;
      w.reject(new Error('connection closed'));
    }
  }

  read(n: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.waiting = { n, resolve, reject };
      this.pump();
    });
  }

  write(b: Buffer): void {
    this.sock.write(b);
  }

  /** Reads the greeting and sends client flags (fixed newstyle + no zeroes by default). */
  async greet(clientFlags = 3): Promise<number> {
    const g = await this.read(18);
    if (g.readBigUInt64BE(0) !== 0x4e42444d41474943n || g.readBigUInt64BE(8) !== IHAVEOPT) throw new Error('bad greeting');
    const f = Buffer.alloc(4);
    f.writeUInt32BE(clientFlags);
    this.write(f);
    return g.readUInt16BE(16);
  }

  sendOption(option: number, data: Buffer = Buffer.alloc(0), magic = IHAVEOPT): void {
    const h = Buffer.alloc(16);
    h.writeBigUInt64BE(magic, 0);
    h.writeUInt32BE(option, 8);
    h.writeUInt32BE(data.length, 12);
    this.write(Buffer.concat([h, data]));
  }

  /** One option reply: its option, type and data. */
  async optionReply(): Promise<{ option: number; type: number; data: Buffer }> {
    const h = await this.read(20);
    if (h.readBigUInt64BE(0) !== 0x3e889045565a9n) throw new Error('bad option reply magic');
    const len = h.readUInt32BE(16);
    return { option: h.readUInt32BE(8), type: h.readUInt32BE(12), data: len ? await this.read(len) : Buffer.alloc(0) };
  }

  /** NBD_OPT_GO on `name`; returns the size and transmission flags. */
  async go(name = ''): Promise<{ size: bigint; flags: number }> {
    const n = Buffer.from(name);
    const d = Buffer.alloc(4 + n.length + 2);
    d.writeUInt32BE(n.length, 0);
    n.copy(d, 4);
    this.sendOption(7, d);
    let size = -1n;
    let flags = 0;
    for (;;) {
      const r = await this.optionReply();
      if (r.type === 1) break;
      if (r.type !== 3) throw new Error(`NBD_OPT_GO failed: 0x${r.type.toString(16)}`);
      if (r.data.readUInt16BE(0) === 0) {
        size = r.data.readBigUInt64BE(2);
        flags = r.data.readUInt16BE(10);
      }
    }
    return { size, flags };
  }

  request(type: number, offset: bigint, length: number, cookie: bigint, opts: { flags?: number; magic?: number; data?: Buffer } = {}): void {
    const h = Buffer.alloc(28);
    h.writeUInt32BE(opts.magic ?? REQUEST_MAGIC, 0);
    h.writeUInt16BE(opts.flags ?? 0, 4);
    h.writeUInt16BE(type, 6);
    h.writeBigUInt64BE(cookie, 8);
    h.writeBigUInt64BE(offset, 16);
    h.writeUInt32BE(length, 24);
    this.write(opts.data ? Buffer.concat([h, opts.data]) : h);
  }

  /** A simple reply: error and cookie (the caller reads any data). */
  async simpleReply(): Promise<{ error: number; cookie: bigint }> {
    const r = await this.read(16);
    if (r.readUInt32BE(0) !== 0x67446698) throw new Error(`not a simple reply: 0x${r.readUInt32BE(0).toString(16)}`);
    return { error: r.readUInt32BE(4), cookie: r.readBigUInt64BE(8) };
  }

  close(): void {
    this.sock.destroy();
  }
}
