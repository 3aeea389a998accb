/**
 * One KMIP connection: binary TTLV over mutual TLS (KMIP 1.4 §10 / 2.0 §11, port 5696).
 *
 * KMIP over TLS is strictly request/response, so a connection carries one request at a time; the
 * caller (the pool) never hands a busy connection out. A response is framed by its TTLV header:
 * 8 bytes (tag, type, length) plus `length` bytes. Each request has a timeout; when it fires the
 * socket is destroyed, since a late response could otherwise be read as the answer to the next one.
 */
import tls from 'node:tls';
import { KmipClientError } from './client-errors.js';
import { KmipError } from './errors.js';
import { Tag } from './tags.js';
import { TTLV_HEADER_BYTES, readTtlvHeader, ttlvMessageLength } from './ttlv.js';

export interface KmipEndpoint {
  readonly host: string;
  readonly port: number;
}

export interface TlsCredentials {
  /** PEM of the CA(s) that issued the servers' certificates. */
  readonly ca: string | Buffer;
  /** PEM of the client certificate and its private key. */
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  /** The name checked against the server certificate; defaults to the endpoint's host. */
  readonly servername?: string;
}

/**
 * The TLS 1.2 suites the client offers (TLS 1.3 suites are negotiated first when the server has
 * them). ECDHE-RSA-AES128-SHA256 and ECDHE-RSA-AES256-SHA384 are the only ECDHE suites that
 * PyKMIP's `TLS1.2` authentication suite has for RSA certificates, so they must stay.
 */
export const KMIP_TLS_CIPHERS = [
  'TLS_AES_256_GCM_SHA384',
  'TLS_AES_128_GCM_SHA256',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES256-SHA384',
  'ECDHE-RSA-AES128-SHA256',
].join(':');

/** The client's TLS settings, made once and shared by every connection. */
export interface KmipTlsContext {
  readonly context: tls.SecureContext;
  readonly servername: string | undefined;
}

/**
 * Checks the credentials (PEM CA, certificate and its key, which must match) and makes the TLS
 * context: TLS 1.2 minimum, KMIP_TLS_CIPHERS. Unusable credentials are `argument_invalid`; the
 * OpenSSL error stays in the cause.
 */
export function createKmipTlsContext(creds: TlsCredentials): KmipTlsContext {
  for (const [what, v] of [
    ['ca', creds.ca],
    ['cert', creds.cert],
    ['key', creds.key],
  ] as const) {
    if (v === undefined || v.length === 0)
      throw new KmipClientError('argument_invalid', `the TLS ${what} is missing`);
  }
  try {
    const context = tls.createSecureContext({
      ca: creds.ca,
      cert: creds.cert,
      key: creds.key,
      minVersion: 'TLSv1.2',
      ciphers: KMIP_TLS_CIPHERS,
    });
    return { context, servername: creds.servername };
  } catch (err) {
    throw new KmipClientError(
      'argument_invalid',
      'the TLS credentials are unusable (CA, certificate or key)',
      {
        cause: err,
      },
    );
  }
}

export function endpointName(e: KmipEndpoint): string {
  return e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

/**
 * Accumulates bytes and cuts complete TTLV messages off the front. A header that is not a
 * Response Message structure, or a length above `maxBytes`, is an error before any body arrives.
 */
export class TtlvFramer {
  #chunks: Buffer[] = [];
  #buffered = 0;
  readonly #maxBytes: number;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  get buffered(): number {
    return this.#buffered;
  }

  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
  }

  /** The next complete message, or undefined if more bytes are needed. Throws on a bad header. */
  next(): Buffer | undefined {
    if (this.#buffered < TTLV_HEADER_BYTES) return undefined;
    const all = this.#flatten();
    let total: number;
    try {
      const header = readTtlvHeader(all);
      if (header.tag !== Tag.ResponseMessage)
        throw new KmipError('invalid_message', 'not a Response Message');
      total = ttlvMessageLength(header, { maxMessageBytes: this.#maxBytes });
    } catch (err) {
      if (!(err instanceof KmipError)) throw err;
      throw new KmipClientError(
        'response_invalid',
        `the server sent something other than a KMIP Response Message within ${this.#maxBytes} bytes (${err.message})`,
        { cause: err },
      );
    }
    if (all.length < total) return undefined;
    const msg = all.subarray(0, total);
    const rest = all.subarray(total);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#buffered = rest.length;
    return msg;
  }

  /** Zeroes what is buffered (responses may carry key material) and forgets it. */
  clear(): void {
    for (const c of this.#chunks) c.fill(0);
    this.#chunks = [];
    this.#buffered = 0;
  }

  #flatten(): Buffer {
    if (this.#chunks.length === 1) return this.#chunks[0]!;
    const all = Buffer.concat(this.#chunks);
    for (const c of this.#chunks) c.fill(0);
    this.#chunks = [all];
    return all;
  }
}

interface Pending {
  resolve(b: Buffer): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

function transportError(err: Error & { code?: string }, where: string): KmipClientError {
  const code = err.code ?? '';
  if (
    code.startsWith('ERR_SSL') ||
    code.startsWith('ERR_TLS') ||
    /certificate|handshake|alert|CERT_|SELF_SIGNED/i.test(`${code} ${err.message}`)
  ) {
    return new KmipClientError('tls_failed', `TLS with ${where} failed: ${err.message}`, { cause: err });
  }
  if (code === 'ECONNRESET' || code === 'EPIPE') {
    return new KmipClientError('connection_closed', `${where} closed the connection (${code})`, {
      cause: err,
    });
  }
  return new KmipClientError('unavailable', `cannot reach ${where}: ${code || err.message}`, { cause: err });
}

export interface ConnectOptions {
  readonly timeoutMs: number;
  readonly maxMessageBytes: number;
}

export class KmipConnection {
  readonly endpoint: KmipEndpoint;
  readonly #socket: tls.TLSSocket;
  readonly #framer: TtlvFramer;
  #pending: Pending | undefined;
  #closed = false;
  #closeError: KmipClientError | undefined;
  /** Requests answered on this connection (a reused connection may have gone stale). */
  used = 0;

  private constructor(endpoint: KmipEndpoint, socket: tls.TLSSocket, maxMessageBytes: number) {
    this.endpoint = endpoint;
    this.#socket = socket;
    this.#framer = new TtlvFramer(maxMessageBytes);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err) => this.#fail(transportError(err, endpointName(endpoint))));
    socket.on('close', () =>
      this.#fail(new KmipClientError('connection_closed', `${endpointName(endpoint)} closed the connection`)),
    );
    socket.on('end', () => socket.end());
    // An idle pooled connection does not keep the process alive; a request in flight does.
    socket.unref();
  }

  /** Connects and completes the mutual-TLS handshake within timeoutMs. */
  static open(
    endpoint: KmipEndpoint,
    tlsContext: KmipTlsContext,
    opts: ConnectOptions,
  ): Promise<KmipConnection> {
    const where = endpointName(endpoint);
    return new Promise((resolve, reject) => {
      const socket = tls.connect({
        host: endpoint.host,
        port: endpoint.port,
        secureContext: tlsContext.context,
        // Node checks the certificate against servername, else against host (IP SANs included).
        ...(tlsContext.servername ? { servername: tlsContext.servername } : {}),
        rejectUnauthorized: true,
      });
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          new KmipClientError(
            'timeout',
            `${where} did not complete the TLS handshake within ${opts.timeoutMs} ms`,
          ),
        );
      }, opts.timeoutMs);
      const onError = (err: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(transportError(err, where));
      };
      const onClose = () => {
        clearTimeout(timer);
        reject(new KmipClientError('tls_failed', `${where} closed the connection during the TLS handshake`));
      };
      socket.once('error', onError);
      socket.once('close', onClose);
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        socket.off('close', onClose);
        resolve(new KmipConnection(endpoint, socket, opts.maxMessageBytes));
      });
    });
  }

  get alive(): boolean {
    return !this.#closed && !this.#socket.destroyed;
  }

  get busy(): boolean {
    return this.#pending !== undefined;
  }

  /** The negotiated TLS protocol and cipher, for diagnostics. */
  get tlsInfo(): { protocol: string | null; cipher: string } {
    return { protocol: this.#socket.getProtocol(), cipher: this.#socket.getCipher().name };
  }

  /**
   * Sends one encoded request and resolves with the raw response message. The caller owns the
   * returned buffer (and zeroes it when it held key material).
   */
  request(message: Uint8Array, timeoutMs: number): Promise<Buffer> {
    if (this.#pending)
      return Promise.reject(
        new KmipClientError('argument_invalid', 'a KMIP connection carries one request at a time'),
      );
    if (!this.alive)
      return Promise.reject(
        this.#closeError ??
          new KmipClientError('connection_closed', `${endpointName(this.endpoint)} connection is closed`),
      );
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#fail(
          new KmipClientError(
            'timeout',
            `${endpointName(this.endpoint)} did not answer within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      this.#pending = { resolve, reject, timer };
      this.#socket.ref();
      this.#socket.write(message);
    });
  }

  close(): void {
    this.#fail(new KmipClientError('client_closed', 'the KMIP connection was closed'));
  }

  #onData(chunk: Buffer): void {
    this.#framer.push(chunk);
    let msg: Buffer | undefined;
    try {
      msg = this.#framer.next();
    } catch (err) {
      this.#fail(err as KmipClientError);
      return;
    }
    if (msg === undefined) return;
    const p = this.#pending;
    if (p === undefined || this.#framer.buffered > 0) {
      // Bytes nobody asked for: the stream is out of step, so it cannot be trusted any more.
      msg.fill(0);
      this.#fail(
        new KmipClientError('response_invalid', `${endpointName(this.endpoint)} sent an unrequested message`),
      );
      return;
    }
    // Hand over a private copy and wipe the framer's buffer.
    const out = Buffer.from(msg);
    this.#framer.clear();
    this.#pending = undefined;
    clearTimeout(p.timer);
    this.#socket.unref();
    this.used++;
    p.resolve(out);
  }

  #fail(err: KmipClientError): void {
    if (!this.#closed) {
      this.#closed = true;
      this.#closeError = err;
      this.#socket.destroy();
      this.#framer.clear();
    }
    const p = this.#pending;
    if (p) {
      this.#pending = undefined;
      clearTimeout(p.timer);
      p.reject(this.#closeError ?? err);
    }
  }
}
