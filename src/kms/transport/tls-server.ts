import { createServer as createHttpServer, type IncomingMessage, type ServerResponse, type Server as HttpServer } from 'node:http';
import { DEFAULT_CIPHERS, createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import type { Logger } from '../../common/logging.js';
import { identityOfSocket, type Identity } from '../identity.js';
import type { KmsMetrics } from '../metrics.js';
import { TtlvFramer } from './framing.js';
import { sniff } from './sniff.js';

/**
 * The KMS listener: mutual TLS (1.2 and 1.3), then the first bytes decide between binary KMIP
 * (TTLV messages, one after another on the connection, answered in order) and HTTPS (KMIP over
 * HTTPS, health, metrics), handed to an http.Server that never listens itself.
 */

/** PyKMIP's `TLS1.2` auth suite offers only these two ECDHE suites for RSA certificates. */
export const PYKMIP_SUITES = ['ECDHE-RSA-AES128-SHA256', 'ECDHE-RSA-AES256-SHA384'] as const;

/** Node's defaults, with PyKMIP's two suites made sure of. */
export function kmsCiphers(): string {
  const list = DEFAULT_CIPHERS.split(':').filter((c) => c.length > 0 && !c.startsWith('!') && !c.startsWith('-'));
  const rest = DEFAULT_CIPHERS.split(':').filter((c) => c.startsWith('!') || c.startsWith('-'));
  for (const s of PYKMIP_SUITES) if (!list.includes(s)) list.push(s);
  return [...list, ...rest].join(':');
}

export interface ConnectionHandler {
  /** One complete binary request message; resolves to the response bytes. Never rejects. */
  ttlv(message: Buffer, identity: Identity): Promise<Uint8Array>;
  /** The response to input that cannot even be framed (garbage, oversized): an Invalid Message error. */
  unframeable(detail: string): Uint8Array;
  /** An HTTPS request (KMIP over HTTPS, /health, /metrics). */
  http(req: IncomingMessage, res: ServerResponse, identity: Identity): void;
}

export interface KmsListenerOptions {
  readonly key: string | Buffer;
  readonly cert: string | Buffer;
  readonly ca: string | Buffer;
  readonly adminSubject: string;
  readonly requireClientAuthEku: boolean;
  readonly maxMessageBytes: number;
  readonly idleTimeoutMs: number;
  readonly messageTimeoutMs: number;
  /** 'mixed' sniffs TTLV vs HTTP; 'https' serves HTTP only (the optional --https-port). */
  readonly mode: 'mixed' | 'https';
  readonly handler: ConnectionHandler;
  readonly metrics: KmsMetrics;
  readonly logger: Logger;
}

const identities = new WeakMap<object, Identity>();

export function createKmsListener(opts: KmsListenerOptions): TlsServer {
  const http: HttpServer = createHttpServer({ maxHeaderSize: 16 * 1024, requestTimeout: opts.messageTimeoutMs }, (req, res) => {
    const identity = identities.get(req.socket);
    opts.metrics.httpRequest();
    if (!identity) {
      res.writeHead(403).end();
      return;
    }
    opts.handler.http(req, res, identity);
  });
  http.keepAliveTimeout = opts.idleTimeoutMs;
  http.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  const server = createTlsServer({
    key: opts.key,
    cert: opts.cert,
    ca: opts.ca,
    requestCert: true,
    // With EKU enforcement off, OpenSSL's purpose check (a client certificate must allow
    // clientAuth) is the one verification error let through, after the handshake (below).
    rejectUnauthorized: opts.requireClientAuthEku,
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.3',
    ciphers: kmsCiphers(),
    honorCipherOrder: true,
    handshakeTimeout: opts.messageTimeoutMs,
  });
  server.on('tlsClientError', (err) => {
    opts.metrics.reject('handshake');
    opts.logger.debug({ err: err.message }, 'TLS handshake refused');
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    const who = identityOfSocket(socket, { adminSubject: opts.adminSubject, requireClientAuthEku: opts.requireClientAuthEku });
    if (!who.ok) {
      opts.metrics.reject('identity');
      opts.logger.info({ reason: who.reason }, 'client refused');
      socket.destroy();
      return;
    }
    opts.metrics.connectionOpened();
    socket.once('close', () => opts.metrics.connectionClosed());
    socket.on('error', (err) => opts.logger.debug({ err: err.message }, 'connection error'));
    socket.setNoDelay(true);
    identities.set(socket, who.identity);
    if (opts.mode === 'https') {
      http.emit('connection', socket);
      return;
    }
    route(socket, who.identity, opts, http);
  });
  return server;
}

/** Reads until the first bytes tell TTLV from HTTP, then hands the connection over. */
function route(socket: TLSSocket, identity: Identity, opts: KmsListenerOptions, http: HttpServer): void {
  let head: Buffer = Buffer.alloc(0);
  const idle = setTimeout(() => socket.destroy(), opts.idleTimeoutMs);
  const onData = (chunk: Buffer): void => {
    head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
    const kind = sniff(head);
    if (kind === 'need-more') return;
    clearTimeout(idle);
    socket.off('data', onData);
    socket.off('close', onClose);
    if (kind === 'http') {
      socket.pause();
      socket.unshift(head);
      http.emit('connection', socket);
      socket.resume();
      return;
    }
    const conn = new TtlvConnection(socket, identity, opts);
    if (kind === 'ttlv') conn.feed(head);
    else conn.refuse('the connection does not start with a KMIP message or an HTTP request', 'garbage');
  };
  const onClose = (): void => clearTimeout(idle);
  socket.on('data', onData);
  socket.once('close', onClose);
}

/** One binary KMIP connection: frames messages and answers them in order, one at a time. */
class TtlvConnection {
  private readonly framer: TtlvFramer;
  private readonly queue: Buffer[] = [];
  private busy = false;
  private closing = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: TLSSocket,
    private readonly identity: Identity,
    private readonly opts: KmsListenerOptions,
  ) {
    this.framer = new TtlvFramer(opts.maxMessageBytes);
    socket.on('data', (chunk: Buffer) => this.feed(chunk));
    socket.once('close', () => {
      this.closing = true;
      if (this.timer) clearTimeout(this.timer);
    });
    this.arm();
  }

  feed(chunk: Buffer): void {
    if (this.closing) return;
    for (const ev of this.framer.push(chunk)) {
      if (ev.kind === 'message') this.queue.push(ev.bytes);
      else if (ev.kind === 'too-large') {
        this.refuse(`the message claims ${ev.claimed} bytes, over the limit of ${this.opts.maxMessageBytes}`, 'too_large');
        return;
      } else {
        this.refuse(ev.detail, 'bad_header');
        return;
      }
    }
    // Back-pressure: a client that pipelines faster than we answer is paused.
    if (this.queue.length > 16 || this.framer.pending > this.opts.maxMessageBytes) this.socket.pause();
    this.arm();
    this.drain().catch((err: unknown) => {
      // The handler answers every message itself; anything else is a bug: drop this connection only.
      this.opts.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'KMIP connection failed');
      this.closing = true;
      this.socket.destroy();
    });
  }

  /** Answers with an Invalid Message error, then closes once the answer is written. */
  refuse(detail: string, reason: string): void {
    if (this.closing) return;
    this.opts.metrics.reject(reason);
    this.opts.logger.info({ reason, detail }, 'KMIP message refused');
    this.closing = true;
    this.queue.length = 0;
    const answer = this.opts.handler.unframeable(detail);
    this.socket.end(answer);
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  /** Idle between messages: idleTimeoutMs; inside a started message: messageTimeoutMs. */
  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.closing) return;
    const ms = this.framer.inMessage ? this.opts.messageTimeoutMs : this.opts.idleTimeoutMs;
    this.timer = setTimeout(() => {
      if (this.framer.inMessage) this.refuse('the message did not arrive in time', 'timeout');
      else this.socket.destroy();
    }, ms);
    this.timer.unref();
  }

  private async drain(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.queue.length > 0 && !this.closing) {
        const msg = this.queue.shift() as Buffer;
        const answer = await this.opts.handler.ttlv(msg, this.identity);
        if (this.closing) break;
        this.socket.write(answer);
      }
    } finally {
      this.busy = false;
    }
    if (!this.closing && this.socket.isPaused()) this.socket.resume();
  }
}
