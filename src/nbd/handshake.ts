/**
 * The fixed newstyle handshake: greeting, client flags, then option haggling until the client
 * picks an export (NBD_OPT_EXPORT_NAME or NBD_OPT_GO), aborts, or breaks the protocol.
 *
 * TLS modes (proto.md "TLS support"): `required` is FORCEDTLS (every option but STARTTLS and ABORT
 * is answered NBD_REP_ERR_TLS_REQD until TLS is up, and EXPORT_NAME closes the connection);
 * `optional` lets the client upgrade or not; `none` answers STARTTLS with NBD_REP_ERR_POLICY.
 */
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer, type TLSSocket, type TlsOptions } from 'node:tls';
import type { Logger } from '../common/logging.js';
import { ByteReader } from './byte-reader.js';
import { NbdError } from './errors.js';
import { BLOCK_SIZES, transmissionFlags, type NbdExport } from './nbd-export.js';
import {
  FLAG_C_FIXED_NEWSTYLE,
  FLAG_C_NO_ZEROES,
  FLAG_FIXED_NEWSTYLE,
  FLAG_NO_ZEROES,
  IHAVEOPT,
  INFO,
  MAX_OPTION_DATA,
  MAX_STRING,
  NBD_MAGIC,
  OPT,
  OPTION_REPLY_MAGIC,
  REP,
} from './protocol.js';

export type TlsMode = 'none' | 'optional' | 'required';

export interface HandshakeEnv {
  readonly exports: ReadonlyMap<string, NbdExport>;
  readonly tlsMode: TlsMode;
  /** Server TLS options (certificate, key, CA for client certificates) when tlsMode is not 'none'. */
  readonly tls?: TlsOptions;
  readonly isShuttingDown: () => boolean;
  readonly logger: Logger;
}

export interface Negotiated {
  readonly stream: Duplex;
  readonly reader: ByteReader;
  readonly export: NbdExport;
  readonly structured: boolean;
  readonly tls: boolean;
}

/** Bytes the reader may hold unread; protects against a client that floods without reading. */
export const READER_HIGH_WATER = 4 * 1024 * 1024;

const EXPORT_NAME_ZEROES = Buffer.alloc(124);

/** One connection's handshake; `stream` is the current transport (the TLS socket after STARTTLS). */
export class Handshake {
  stream: Duplex;
  reader = new ByteReader(READER_HIGH_WATER);
  private tlsActive = false;
  private structured = false;
  private noZeroes = false;
  private readonly env: HandshakeEnv;

  constructor(stream: Duplex, env: HandshakeEnv) {
    this.stream = stream;
    this.env = env;
    this.reader.attach(stream);
  }

  async run(): Promise<Negotiated | null> {
    const greeting = Buffer.allocUnsafe(18);
    greeting.writeBigUInt64BE(NBD_MAGIC, 0);
    greeting.writeBigUInt64BE(IHAVEOPT, 8);
    greeting.writeUInt16BE(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES, 16);
    this.stream.write(greeting);

    const clientFlags = (await this.reader.read(4)).readUInt32BE(0);
    if ((clientFlags & ~(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES)) !== 0) {
      throw new NbdError('protocol', `unknown client flags 0x${clientFlags.toString(16)}`);
    }
    this.noZeroes = (clientFlags & FLAG_C_NO_ZEROES) !== 0;
    const fixed = (clientFlags & FLAG_C_FIXED_NEWSTYLE) !== 0;
    if (!fixed && this.env.tlsMode === 'required') {
      throw new NbdError('tls_required', 'TLS is required, and a client without fixed newstyle cannot start it');
    }

    for (;;) {
      const head = await this.reader.read(16);
      if (head.readBigUInt64BE(0) !== IHAVEOPT) throw new NbdError('protocol', 'bad option magic');
      const option = head.readUInt32BE(8);
      const length = head.readUInt32BE(12);
      if (length > MAX_OPTION_DATA) {
        if (option === OPT.EXPORT_NAME) throw new NbdError('protocol', 'export name too long');
        await this.reader.skip(length);
        this.reply(option, REP.ERR_TOO_BIG, 'option data too long');
        continue;
      }
      const data = length === 0 ? Buffer.alloc(0) : await this.reader.read(length);
      const done = await this.option(option, data);
      if (done !== undefined) return done;
    }
  }

  /** Handles one option; returns the negotiated result, null to close, undefined to continue. */
  private async option(option: number, data: Buffer): Promise<Negotiated | null | undefined> {
    if (option === OPT.ABORT) {
      this.reply(option, REP.ACK);
      return null;
    }
    if (this.env.tlsMode === 'required' && !this.tlsActive && option !== OPT.STARTTLS) {
      if (option === OPT.EXPORT_NAME) throw new NbdError('tls_required', 'NBD_OPT_EXPORT_NAME before TLS');
      this.reply(option, REP.ERR_TLS_REQD, 'TLS is required: send NBD_OPT_STARTTLS first');
      return undefined;
    }
    if (this.env.isShuttingDown()) {
      if (option === OPT.EXPORT_NAME) return null;
      this.reply(option, REP.ERR_SHUTDOWN, 'the server is shutting down');
      return undefined;
    }
    switch (option) {
      case OPT.EXPORT_NAME:
        return this.exportName(data);
      case OPT.LIST:
        this.list(data);
        return undefined;
      case OPT.STARTTLS:
        await this.startTls(data);
        return undefined;
      case OPT.INFO:
      case OPT.GO:
        return this.infoOrGo(option, data);
      case OPT.STRUCTURED_REPLY:
        if (data.length !== 0) this.reply(option, REP.ERR_INVALID, 'NBD_OPT_STRUCTURED_REPLY takes no data');
        else {
          this.structured = true;
          this.reply(option, REP.ACK);
        }
        return undefined;
      default:
        this.reply(option, REP.ERR_UNSUP, `option ${option} is not supported`);
        return undefined;
    }
  }

  private negotiated(exp: NbdExport): Negotiated {
    return { stream: this.stream, reader: this.reader, export: exp, structured: this.structured, tls: this.tlsActive };
  }

  private exportName(data: Buffer): Negotiated {
    const name = data.toString('utf8');
    const exp = this.env.exports.get(name);
    // The protocol has no way to refuse NBD_OPT_EXPORT_NAME but to close the connection.
    if (exp === undefined) throw new NbdError('invalid_request', 'NBD_OPT_EXPORT_NAME names no export');
    const info = Buffer.allocUnsafe(10);
    info.writeBigUInt64BE(BigInt(exp.device.size), 0);
    info.writeUInt16BE(transmissionFlags(exp), 8);
    this.stream.write(this.noZeroes ? info : Buffer.concat([info, EXPORT_NAME_ZEROES]));
    return this.negotiated(exp);
  }

  private list(data: Buffer): void {
    if (data.length !== 0) {
      this.reply(OPT.LIST, REP.ERR_INVALID, 'NBD_OPT_LIST takes no data');
      return;
    }
    for (const exp of this.env.exports.values()) {
      const name = Buffer.from(exp.name, 'utf8');
      const desc = Buffer.from(exp.description, 'utf8');
      const body = Buffer.allocUnsafe(4 + name.length + desc.length);
      body.writeUInt32BE(name.length, 0);
      name.copy(body, 4);
      desc.copy(body, 4 + name.length);
      this.reply(OPT.LIST, REP.SERVER, body);
    }
    this.reply(OPT.LIST, REP.ACK);
  }

  private async infoOrGo(option: number, data: Buffer): Promise<Negotiated | undefined> {
    const parsed = parseInfoRequest(data);
    if (typeof parsed === 'string') {
      this.reply(option, REP.ERR_INVALID, parsed);
      return undefined;
    }
    const exp = this.env.exports.get(parsed.name);
    if (exp === undefined) {
      this.reply(option, REP.ERR_UNKNOWN, 'no such export');
      return undefined;
    }
    const expInfo = Buffer.allocUnsafe(12);
    expInfo.writeUInt16BE(INFO.EXPORT, 0);
    expInfo.writeBigUInt64BE(BigInt(exp.device.size), 2);
    expInfo.writeUInt16BE(transmissionFlags(exp), 10);
    this.reply(option, REP.INFO, expInfo);
    if (parsed.requests.includes(INFO.NAME)) this.reply(option, REP.INFO, infoString(INFO.NAME, exp.name));
    if (parsed.requests.includes(INFO.DESCRIPTION) && exp.description !== '') {
      this.reply(option, REP.INFO, infoString(INFO.DESCRIPTION, exp.description));
    }
    const bs = Buffer.allocUnsafe(14);
    bs.writeUInt16BE(INFO.BLOCK_SIZE, 0);
    bs.writeUInt32BE(BLOCK_SIZES.minimum, 2);
    bs.writeUInt32BE(BLOCK_SIZES.preferred, 6);
    bs.writeUInt32BE(BLOCK_SIZES.maximum, 10);
    this.reply(option, REP.INFO, bs);
    this.reply(option, REP.ACK);
    return option === OPT.GO ? this.negotiated(exp) : undefined;
  }

  private async startTls(data: Buffer): Promise<void> {
    if (data.length !== 0) return this.reply(OPT.STARTTLS, REP.ERR_INVALID, 'NBD_OPT_STARTTLS takes no data');
    if (this.tlsActive) return this.reply(OPT.STARTTLS, REP.ERR_INVALID, 'TLS is already active');
    if (this.env.tlsMode === 'none' || this.env.tls === undefined) {
      return this.reply(OPT.STARTTLS, REP.ERR_POLICY, 'TLS is not configured on this server');
    }
    if (this.reader.detach() !== 0) throw new NbdError('protocol', 'data sent after NBD_OPT_STARTTLS before its reply');
    this.reply(OPT.STARTTLS, REP.ACK);
    this.stream = await upgrade(this.stream, this.env.tls);
    this.tlsActive = true;
    this.reader = new ByteReader(READER_HIGH_WATER);
    this.reader.attach(this.stream);
  }

  private reply(option: number, type: number, payload?: Buffer | string): void {
    const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
    const len = body?.length ?? 0;
    const head = Buffer.allocUnsafe(20);
    head.writeBigUInt64BE(OPTION_REPLY_MAGIC, 0);
    head.writeUInt32BE(option, 8);
    head.writeUInt32BE(type, 12);
    head.writeUInt32BE(len, 16);
    this.stream.write(len === 0 || body === undefined ? head : Buffer.concat([head, body]));
  }
}

function infoString(type: number, text: string): Buffer {
  const s = Buffer.from(text, 'utf8');
  const b = Buffer.allocUnsafe(2 + s.length);
  b.writeUInt16BE(type, 0);
  s.copy(b, 2);
  return b;
}

/** NBD_OPT_INFO / NBD_OPT_GO data: u32 name length, name, u16 count, count × u16 info types. */
function parseInfoRequest(data: Buffer): { name: string; requests: number[] } | string {
  if (data.length < 6) return 'option data too short';
  const nameLen = data.readUInt32BE(0);
  if (nameLen > MAX_STRING || 4 + nameLen + 2 > data.length) return 'bad export name length';
  const name = data.toString('utf8', 4, 4 + nameLen);
  const count = data.readUInt16BE(4 + nameLen);
  if (data.length !== 4 + nameLen + 2 + 2 * count) return 'bad information request count';
  const requests: number[] = [];
  for (let i = 0; i < count; i++) requests.push(data.readUInt16BE(4 + nameLen + 2 + 2 * i));
  return { name, requests };
}

/**
 * The TLS handshake on a connection that has acknowledged NBD_OPT_STARTTLS. A throwaway tls.Server
 * (never listening) runs it, because only the server path enforces `rejectUnauthorized` for a
 * client certificate; a TLSSocket built by hand reports an unverified peer as merely unauthorized.
 */
function upgrade(raw: Duplex, opts: TlsOptions): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const server = createTlsServer({ ...opts, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' });
    const fail = (err: unknown): void => {
      raw.destroy();
      reject(new NbdError('tls_required', 'TLS handshake failed', { cause: err }));
    };
    server.once('secureConnection', (sock: TLSSocket) => {
      raw.off('close', fail);
      if (!sock.authorized) {
        sock.destroy();
        fail(sock.authorizationError);
        return;
      }
      resolve(sock);
    });
    server.once('tlsClientError', fail);
    raw.once('close', fail);
    server.emit('connection', raw);
  });
}
