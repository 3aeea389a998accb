/**
 * How `cryptvisor demo` reads and writes a VM's disk as the guest sees it: through the VM's NBD
 * export (`nbd+unix:///?socket=PATH`, DESIGN.md §10), with libnbd's `nbdsh` when it is installed,
 * else with the minimal NBD client below (fixed newstyle handshake, NBD_OPT_GO, simple replies:
 * READ, WRITE, FLUSH, DISC; the protocol of NetworkBlockDevice's doc/proto.md).
 */
import { spawn, spawnSync } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { UpError } from './up-errors.js';

const NBDMAGIC = Buffer.from('NBDMAGIC');
const IHAVEOPT = Buffer.from('IHAVEOPT');
const OPT_REPLY_MAGIC = 0x3e889045565a9n;
const REQUEST_MAGIC = 0x25609513;
const SIMPLE_REPLY_MAGIC = 0x67446698;
const FLAG_FIXED_NEWSTYLE = 1;
const FLAG_NO_ZEROES = 2;
const OPT_GO = 7;
const REP_ACK = 1;
const REP_INFO = 3;
const INFO_EXPORT = 0;
const CMD_READ = 0;
const CMD_WRITE = 1;
const CMD_DISC = 2;
const CMD_FLUSH = 3;
const TRANSMISSION_FLAG_SEND_FLUSH = 1 << 2;

/** The unix socket and export name of an `nbd+unix:///NAME?socket=PATH` URI. */
export function parseNbdUnixUri(uri: string): { socket: string; exportName: string } {
  let u: URL;
  try {
    u = new URL(uri);
  } catch (err) {
    throw new UpError('demo_failed', `not an NBD URI: ${uri}`, { cause: err });
  }
  const socket = u.searchParams.get('socket');
  if (u.protocol !== 'nbd+unix:' || !socket)
    throw new UpError('demo_failed', `not an nbd+unix URI with a socket: ${uri}`);
  return { socket, exportName: decodeURIComponent(u.pathname.replace(/^\//, '')) };
}

/** Buffered reads of exact lengths from a socket. */
class Reader {
  #buf = Buffer.alloc(0);
  #want: { n: number; resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;
  #error: Error | undefined;

  constructor(sock: Socket) {
    sock.on('data', (c: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, c]);
      this.#serve();
    });
    const fail = (e: Error): void => {
      this.#error = e;
      this.#want?.reject(e);
      this.#want = undefined;
    };
    sock.on('error', fail);
    sock.on('close', () => fail(new UpError('demo_failed', 'the NBD server closed the connection')));
  }

  #serve(): void {
    const w = this.#want;
    if (!w || this.#buf.length < w.n) return;
    const out = this.#buf.subarray(0, w.n);
    this.#buf = this.#buf.subarray(w.n);
    this.#want = undefined;
    w.resolve(Buffer.from(out));
  }

  read(n: number): Promise<Buffer> {
    if (this.#error && this.#buf.length < n) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => {
      this.#want = { n, resolve, reject };
      this.#serve();
    });
  }
}

/** A minimal NBD client over a unix socket. */
export class NbdConnection {
  #handle = 0n;

  private constructor(
    private readonly sock: Socket,
    private readonly reader: Reader,
    readonly size: bigint,
    private readonly flags: number,
  ) {}

  static async open(uri: string): Promise<NbdConnection> {
    const { socket, exportName } = parseNbdUnixUri(uri);
    const sock = connect(socket);
    const reader = new Reader(sock);
    await new Promise<void>((res, rej) => {
      sock.once('connect', res);
      sock.once('error', rej);
    });
    try {
      const hello = await reader.read(18);
      if (!hello.subarray(0, 8).equals(NBDMAGIC) || !hello.subarray(8, 16).equals(IHAVEOPT)) {
        throw new UpError('demo_failed', 'the NBD server does not speak the newstyle handshake');
      }
      const serverFlags = hello.readUInt16BE(16);
      if (!(serverFlags & FLAG_FIXED_NEWSTYLE))
        throw new UpError('demo_failed', 'the NBD server lacks fixed newstyle');
      const clientFlags = Buffer.alloc(4);
      clientFlags.writeUInt32BE(FLAG_FIXED_NEWSTYLE | (serverFlags & FLAG_NO_ZEROES));
      const name = Buffer.from(exportName, 'utf8');
      const data = Buffer.alloc(4 + name.length + 2);
      data.writeUInt32BE(name.length, 0);
      name.copy(data, 4);
      const opt = Buffer.alloc(16);
      IHAVEOPT.copy(opt, 0);
      opt.writeUInt32BE(OPT_GO, 8);
      opt.writeUInt32BE(data.length, 12);
      sock.write(Buffer.concat([clientFlags, opt, data]));
      let size: bigint | undefined;
      let flags = 0;
      for (;;) {
        const head = await reader.read(20);
        if (head.readBigUInt64BE(0) !== OPT_REPLY_MAGIC)
          throw new UpError('demo_failed', 'bad NBD option reply');
        const type = head.readUInt32BE(12);
        const body = await reader.read(head.readUInt32BE(16));
        if (type === REP_ACK) break;
        if (type & 0x80000000)
          throw new UpError(
            'demo_failed',
            `the NBD server refused export "${exportName}" (${body.toString('utf8')})`,
          );
        if (type === REP_INFO && body.length >= 12 && body.readUInt16BE(0) === INFO_EXPORT) {
          size = body.readBigUInt64BE(2);
          flags = body.readUInt16BE(10);
        }
      }
      if (size === undefined) throw new UpError('demo_failed', 'the NBD server sent no export size');
      return new NbdConnection(sock, reader, size, flags);
    } catch (err) {
      sock.destroy();
      throw err;
    }
  }

  async #request(type: number, offset: number, length: number, payload?: Buffer): Promise<Buffer> {
    const req = Buffer.alloc(28);
    const handle = ++this.#handle;
    req.writeUInt32BE(REQUEST_MAGIC, 0);
    req.writeUInt16BE(0, 4);
    req.writeUInt16BE(type, 6);
    req.writeBigUInt64BE(handle, 8);
    req.writeBigUInt64BE(BigInt(offset), 16);
    req.writeUInt32BE(length, 24);
    this.sock.write(payload ? Buffer.concat([req, payload]) : req);
    const reply = await this.reader.read(16);
    if (reply.readUInt32BE(0) !== SIMPLE_REPLY_MAGIC || reply.readBigUInt64BE(8) !== handle) {
      throw new UpError('demo_failed', 'bad NBD reply');
    }
    const error = reply.readUInt32BE(4);
    if (error !== 0) throw new UpError('demo_failed', `the NBD server failed the request (errno ${error})`);
    return type === CMD_READ ? this.reader.read(length) : Buffer.alloc(0);
  }

  read(offset: number, length: number): Promise<Buffer> {
    return this.#request(CMD_READ, offset, length);
  }

  async write(offset: number, data: Buffer): Promise<void> {
    await this.#request(CMD_WRITE, offset, data.length, data);
    if (this.flags & TRANSMISSION_FLAG_SEND_FLUSH) await this.#request(CMD_FLUSH, 0, 0);
  }

  close(): void {
    const req = Buffer.alloc(28);
    req.writeUInt32BE(REQUEST_MAGIC, 0);
    req.writeUInt16BE(CMD_DISC, 6);
    this.sock.end(req);
  }
}

/**
 * nbdsh is `python3 -m nbd`; it runs with Debian's Python, which has libnbd's module (the first
 * python3 on PATH may be another interpreter without it).
 */
const PYTHON = '/usr/bin/python3';

function haveNbdsh(): boolean {
  return spawnSync(PYTHON, ['-c', 'import nbd'], { stdio: 'ignore' }).status === 0;
}

function nbdsh(uri: string, script: string, input?: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-m', 'nbd', '-u', uri, '-c', script], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', reject);
    child.once('close', (status) =>
      status === 0
        ? resolve(Buffer.concat(out))
        : reject(new UpError('demo_failed', `nbdsh failed: ${err.trim()}`)),
    );
    child.stdin.end(input ?? Buffer.alloc(0));
  });
}

/** Reads and writes through an NBD export with nbdsh if present, else with NbdConnection. */
export interface GuestDiskIo {
  readonly client: string;
  read(uri: string, offset: number, length: number): Promise<Buffer>;
  write(uri: string, offset: number, data: Buffer): Promise<void>;
}

export function guestDiskIo(): GuestDiskIo {
  if (haveNbdsh()) {
    return {
      client: 'nbdsh (libnbd)',
      read: (uri, offset, length) =>
        nbdsh(uri, `import sys; sys.stdout.buffer.write(h.pread(${length}, ${offset}))`),
      write: async (uri, offset, data) => {
        await nbdsh(
          uri,
          `import sys\nh.pwrite(sys.stdin.buffer.read(), ${offset})\nif h.can_flush(): h.flush()`,
          data,
        );
      },
    };
  }
  const withConnection = async <T>(uri: string, fn: (c: NbdConnection) => Promise<T>): Promise<T> => {
    const c = await NbdConnection.open(uri);
    try {
      return await fn(c);
    } finally {
      c.close();
    }
  };
  return {
    client: "cryptvisor's own minimal NBD client",
    read: (uri, offset, length) => withConnection(uri, (c) => c.read(offset, length)),
    write: (uri, offset, data) => withConnection(uri, (c) => c.write(offset, data)),
  };
}
