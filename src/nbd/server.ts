/**
 * The NBD server: named exports (the default export is ""), served on Unix sockets and on TCP.
 * Over TCP, TLS is required with a client certificate (FORCEDTLS); over a Unix socket it is
 * optional (the socket itself is private, mode 0600). Closing the server stops accepting, lets
 * in-flight requests finish, closes the connections and flushes every device.
 */
import { chmod } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { TlsOptions } from 'node:tls';
import { silentLogger, type Logger } from '../common/logging.js';
import { AlignedDevice } from './aligned-device.js';
import type { BlockDevice } from './block-device.js';
import { NbdConnection } from './connection.js';
import { WorkLimit } from './work-limit.js';
import { NbdError } from './errors.js';
import type { HandshakeEnv, TlsMode } from './handshake.js';
import type { NbdExport } from './nbd-export.js';
import { MAX_STRING } from './protocol.js';
import { RequestBuffers } from './request-buffers.js';
import { setSendBuffer } from './sys-addon.js';
import { transmissionPool, type RemoteDevice } from './transmission-pool.js';

/** Buffers each device's pool keeps (of 256 KiB for nbdcopy: 16 MiB). */
const POOLED_BUFFERS = 64;

/** SO_SNDBUF asked for each connection (the kernel doubles it, capped at net.core.wmem_max). */
const SEND_BUFFER_BYTES = 2 * 1024 * 1024;

export interface NbdExportSpec {
  /** The export name; "" is the default export. */
  readonly name: string;
  readonly device: BlockDevice;
  readonly description?: string;
  readonly readOnly?: boolean;
}

/** PEM material for TLS: the server's certificate and key, and the CA that signs client certificates. */
export interface NbdTlsConfig {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  readonly ca: string | Buffer;
}

export interface NbdServerOptions {
  readonly exports: readonly NbdExportSpec[];
  readonly tls?: NbdTlsConfig;
  readonly logger?: Logger;
  /** How long a client may take to reach the transmission phase (default 30 s). */
  readonly handshakeTimeoutMs?: number;
  /**
   * Device requests running at once across the main thread's connections; the rest wait in order
   * (default 16). Each transmission worker has the same limit of its own.
   */
  readonly maxActiveRequests?: number;
  /**
   * Serve plain-socket connections to file and natively encrypted devices in the process's
   * transmission workers (transmission-pool.ts; default true, and none when
   * CRYPTVISOR_NBD_WORKERS=0). TLS connections and other devices stay on the main thread.
   */
  readonly workers?: boolean;
}

export class NbdServer {
  private readonly exports = new Map<string, NbdExport>();
  /** One buffer pool per device, shared by its exports and connections. */
  private readonly pools = new Map<BlockDevice, RequestBuffers>();
  private readonly devices = new Set<BlockDevice>();
  /** The devices transmission workers serve. */
  private readonly remotes = new Map<BlockDevice, RemoteDevice>();
  private readonly listeners: Server[] = [];
  private readonly connections = new Set<NbdConnection>();
  private readonly serving = new Set<Promise<void>>();
  private readonly tls: TlsOptions | undefined;
  private readonly log: Logger;
  private readonly handshakeTimeoutMs: number;
  private readonly limit: WorkLimit;
  private shuttingDown = false;
  private nextId = 1;

  constructor(opts: NbdServerOptions) {
    this.log = opts.logger ?? silentLogger();
    this.handshakeTimeoutMs = opts.handshakeTimeoutMs ?? 30_000;
    this.limit = new WorkLimit(opts.maxActiveRequests ?? 16);
    this.tls = opts.tls === undefined ? undefined : { cert: opts.tls.cert, key: opts.tls.key, ca: opts.tls.ca };
    // One AlignedDevice per underlying device: exports of the same device share its write locks.
    const wrapped = new Map<BlockDevice, AlignedDevice>();
    for (const spec of opts.exports) {
      if (Buffer.byteLength(spec.name, 'utf8') > MAX_STRING || spec.name.includes('\0')) {
        throw new NbdError('config_invalid', 'export names are at most 4096 bytes, without NUL');
      }
      if (this.exports.has(spec.name)) throw new NbdError('config_invalid', `duplicate export name "${spec.name}"`);
      let dev: BlockDevice;
      if (spec.device instanceof AlignedDevice) dev = spec.device;
      else {
        dev = wrapped.get(spec.device) ?? new AlignedDevice(spec.device);
        wrapped.set(spec.device, dev as AlignedDevice);
      }
      this.devices.add(dev);
      const remote = this.remoteOf(dev, opts.workers ?? true);
      const buffers = this.pools.get(dev) ?? new RequestBuffers({ maxKept: POOLED_BUFFERS });
      this.pools.set(dev, buffers);
      this.exports.set(spec.name, {
        name: spec.name,
        description: spec.description ?? '',
        device: dev,
        readOnly: spec.readOnly ?? false,
        buffers,
        ...(remote ? { remote } : {}),
      });
    }
  }

  private remoteOf(dev: BlockDevice, workers: boolean): RemoteDevice | undefined {
    if (!workers || !(dev instanceof AlignedDevice)) return undefined;
    const known = this.remotes.get(dev);
    if (known !== undefined) return known;
    const remote = transmissionPool(this.log)?.register(dev) ?? undefined;
    if (remote !== undefined) this.remotes.set(dev, remote);
    return remote;
  }

  /** Request buffers kept warm in the devices' pools (they outlive connections; close() drops them). */
  get pooledBuffers(): number {
    let n = 0;
    for (const p of this.pools.values()) n += p.kept;
    return n;
  }

  /** Connections handed to transmission workers, since the server started. */
  get workerHandoffs(): number {
    let n = 0;
    for (const r of this.remotes.values()) n += r.handoffs;
    return n;
  }

  /** Number of open client connections. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Listens on a Unix socket (mode 0600). TLS is offered when configured, not required. */
  async listenUnix(path: string): Promise<void> {
    await this.listen(this.tls === undefined ? 'none' : 'optional', (srv, cb) => srv.listen(path, cb));
    await chmod(path, 0o600);
  }

  /** Listens on TCP (default 127.0.0.1, port 0 = any); requires TLS and a client certificate. */
  async listenTcp(port: number, host = '127.0.0.1'): Promise<AddressInfo> {
    if (this.tls === undefined) throw new NbdError('config_invalid', 'NBD over TCP requires TLS: give a certificate, key and CA');
    const srv = await this.listen('required', (s, cb) => s.listen(port, host, cb));
    return srv.address() as AddressInfo;
  }

  private listen(tlsMode: TlsMode, start: (srv: Server, cb: () => void) => void): Promise<Server> {
    if (this.shuttingDown) return Promise.reject(new NbdError('closed', 'the server is closed'));
    const env: HandshakeEnv = {
      exports: this.exports,
      tlsMode,
      tls: this.tls,
      isShuttingDown: () => this.shuttingDown,
      logger: this.log,
    };
    const srv = createServer((sock) => this.accept(sock, env));
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(new NbdError('listen_failed', `cannot listen: ${err.message}`, { cause: err }));
      srv.once('error', onError);
      start(srv, () => {
        srv.off('error', onError);
        srv.on('error', (err) => this.log.error({ err: err.message }, 'listener error'));
        this.listeners.push(srv);
        resolve(srv);
      });
    });
  }

  private accept(sock: Socket, env: HandshakeEnv): void {
    if (this.shuttingDown) {
      sock.destroy();
      return;
    }
    sock.setNoDelay(true);
    // Room for a whole large READ reply in the socket (sys-addon.ts); the default is 208 KiB.
    setSendBuffer(sock, SEND_BUFFER_BYTES);
    const log = this.log.child({ conn: this.nextId++ });
    const conn = new NbdConnection(sock, log, this.handshakeTimeoutMs, this.limit);
    this.connections.add(conn);
    const p = conn.serve(env).finally(() => {
      this.connections.delete(conn);
      this.serving.delete(p);
    });
    this.serving.add(p);
  }

  /** Stops listening, finishes in-flight requests, closes connections and flushes the devices. */
  async close(): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    const closed = this.listeners.map((l) => new Promise<void>((resolve) => l.close(() => resolve())));
    for (const c of this.connections) c.shutdown();
    await Promise.all([...closed, ...this.serving]);
    for (const pool of this.pools.values()) pool.clear();
    // The workers drop the devices (and their key copies) before the owner may close them.
    await Promise.all([...this.remotes.values()].map((r) => r.pool.release(r)));
    for (const dev of this.devices) {
      await dev.flush().catch((err: unknown) => this.log.error({ err: (err as Error).message }, 'flush on close failed'));
    }
  }
}
