/**
 * Transmission workers: threads that each serve whole NBD connections after the main thread has
 * done their handshake (nbdkit's model). A worker reads a connection's requests, encrypts and
 * writes, reads and decrypts, and sends the replies, all on its own thread, with no hand-off to
 * the libuv pool for the common case (page-cache hits and writes) and none back to the main
 * thread. One pool serves every NbdServer of the process (the agent runs one per disk).
 *
 * - The main thread hands over a plain socket's duplicated descriptor, with the bytes it already
 *   read past the handshake. TLS connections stay on the main thread (their TLS state lives there).
 * - A worker opens a device from its description (portable-device.ts) the first time one of its
 *   connections needs it: the same descriptor, the key from shared memory, and the device's write
 *   locks in shared memory, so overlapping writes on different threads are still serialized.
 * - A worker's log records go to the main thread's logger for the connection.
 * - When a server closes, its connections are stopped like local ones (requests in flight
 *   finish), then every worker drops the device (and zeroes its key) before close() returns, so
 *   the owner may close the descriptor after that.
 * - A worker is referenced (keeps the process alive) only while it has connections or pending
 *   work; an idle pool never holds the process open. The first one starts when the first device
 *   is registered, so the first client does not wait for a thread to load.
 *
 * Workers: CRYPTVISOR_NBD_WORKERS (default: the number of CPUs, at most 4); 0 serves everything
 * on the main thread.
 */
import { closeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../common/logging.js';
import type { AlignedDevice } from './aligned-device.js';
import { NbdError } from './errors.js';
import { describeDevice, type DescribedDevice, type PortableDevice } from './portable-device.js';

/** Messages to a worker. */
export type ToWorker =
  | { readonly t: 'open'; readonly dev: number; readonly portable: PortableDevice }
  | {
      readonly t: 'conn';
      readonly conn: number;
      readonly dev: number;
      readonly readOnly: boolean;
      readonly name: string;
      readonly fd: number;
      readonly rest: readonly Buffer[];
      readonly structured: boolean;
      readonly level: string;
    }
  | { readonly t: 'stop'; readonly conn: number }
  | { readonly t: 'drop'; readonly dev: number };

/** Messages from a worker. */
export type FromWorker =
  | { readonly t: 'started'; readonly conn: number }
  | { readonly t: 'log'; readonly conn: number; readonly line: string }
  | { readonly t: 'closed'; readonly conn: number }
  | { readonly t: 'dropped'; readonly dev: number };

const MAX_WORKERS = 4;

/** The pool size from CRYPTVISOR_NBD_WORKERS, else the CPU count (at most MAX_WORKERS). */
export function configuredWorkers(env: NodeJS.ProcessEnv = process.env): number {
  const v = env['CRYPTVISOR_NBD_WORKERS'];
  if (v === undefined || v === '') return Math.min(availableParallelism(), MAX_WORKERS);
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0 || n > 64) {
    throw new NbdError('config_invalid', `CRYPTVISOR_NBD_WORKERS must be an integer from 0 to 64, not "${v}"`);
  }
  return n;
}

/** A connection served by a worker. */
export interface RemoteConnection {
  /** Resolves once the worker has finished the connection (never rejects). */
  readonly done: Promise<void>;
  /** Stops taking requests; those in flight finish, then the connection closes. */
  stop(): void;
}

/** What the connection brings: its socket (as a duplicated descriptor) and how it was negotiated. */
export interface Handoff {
  readonly fd: number;
  readonly rest: readonly Buffer[];
  readonly structured: boolean;
  readonly readOnly: boolean;
  readonly name: string;
  readonly log: Logger;
}

/** A device registered with the pool, by every server that exports it. */
export class RemoteDevice {
  readonly id: number;
  readonly pool: TransmissionPool;
  readonly described: DescribedDevice;
  users = 1;
  /** Connections handed to workers so far. */
  handoffs = 0;

  constructor(id: number, pool: TransmissionPool, described: DescribedDevice) {
    this.id = id;
    this.pool = pool;
    this.described = described;
  }

  /** Hands a connection in its transmission phase to a worker. */
  handoff(h: Handoff): RemoteConnection {
    this.handoffs++;
    return this.pool.handoff(this, h);
  }
}

interface Conn {
  readonly log: Logger;
  /** The socket descriptor, the worker's once it has started the connection. */
  readonly fd: number;
  started: boolean;
  readonly resolve: () => void;
  readonly worker: PoolWorker;
}

class PoolWorker {
  readonly worker: Worker;
  readonly conns = new Set<number>();
  readonly devices = new Set<number>();
  readonly drops = new Map<number, () => void>();
  alive = true;
  private refed = false;

  constructor(worker: Worker) {
    this.worker = worker;
  }

  /** Held (keeps the process alive) while it has connections or drops pending. */
  updateRef(): void {
    const busy = this.alive && (this.conns.size > 0 || this.drops.size > 0);
    if (busy === this.refed) return;
    this.refed = busy;
    if (busy) this.worker.ref();
    else this.worker.unref();
  }

  post(m: ToWorker): void {
    this.worker.postMessage(m);
  }
}

export class TransmissionPool {
  readonly size: number;
  private readonly workers: PoolWorker[] = [];
  private readonly devices = new Map<AlignedDevice, RemoteDevice>();
  private readonly conns = new Map<number, Conn>();
  private readonly log: Logger | null;
  private nextDevice = 1;
  private nextConn = 1;

  constructor(size: number, log: Logger | null = null) {
    if (!Number.isSafeInteger(size) || size < 1) throw new NbdError('config_invalid', 'a transmission pool needs at least one worker');
    this.size = size;
    this.log = log;
  }

  /** Connections the workers are serving. */
  get connectionCount(): number {
    return this.conns.size;
  }

  /** Threads started so far (one on the first registration, the others as connections need them). */
  get workerCount(): number {
    return this.workers.length;
  }

  /**
   * Registers a device for workers to serve; null when it cannot be described (served on the
   * main thread). Registering again (another server of the same device) shares the registration.
   */
  register(dev: AlignedDevice): RemoteDevice | null {
    const known = this.devices.get(dev);
    if (known !== undefined) {
      known.users++;
      return known;
    }
    const described = describeDevice(dev);
    if (described === null) return null;
    const remote = new RemoteDevice(this.nextDevice++, this, described);
    this.devices.set(dev, remote);
    // Start one thread now, so the first client does not wait for it to load.
    if (this.workers.length === 0) this.spawn();
    return remote;
  }

  /**
   * A server is done with the device (its connections have finished). With the last user gone,
   * every worker drops the device; resolves once they have, and the key copy is zeroed.
   */
  async release(remote: RemoteDevice): Promise<void> {
    if (--remote.users > 0) return;
    for (const [dev, r] of this.devices) if (r === remote) this.devices.delete(dev);
    const drops: Promise<void>[] = [];
    for (const w of this.workers) {
      if (!w.devices.has(remote.id)) continue;
      w.devices.delete(remote.id);
      drops.push(
        new Promise<void>((resolve) => {
          w.drops.set(remote.id, resolve);
          w.updateRef();
          w.post({ t: 'drop', dev: remote.id });
        }),
      );
    }
    await Promise.all(drops);
    remote.described.dispose();
  }

  handoff(remote: RemoteDevice, h: Handoff): RemoteConnection {
    const w = this.pick();
    const id = this.nextConn++;
    if (!w.devices.has(remote.id)) {
      w.devices.add(remote.id);
      w.post({ t: 'open', dev: remote.id, portable: remote.described.portable });
    }
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    this.conns.set(id, { log: h.log, fd: h.fd, started: false, resolve, worker: w });
    w.conns.add(id);
    w.updateRef();
    w.post({
      t: 'conn',
      conn: id,
      dev: remote.id,
      readOnly: h.readOnly,
      name: h.name,
      fd: h.fd,
      rest: h.rest,
      structured: h.structured,
      level: h.log.level,
    });
    return {
      done,
      stop: (): void => {
        if (this.conns.has(id) && w.alive) w.post({ t: 'stop', conn: id });
      },
    };
  }

  /** The worker with the fewest connections; a new one while the pool has room and none is idle. */
  private pick(): PoolWorker {
    let best: PoolWorker | undefined;
    for (const w of this.workers) if (best === undefined || w.conns.size < best.conns.size) best = w;
    if (best !== undefined && (best.conns.size === 0 || this.workers.length >= this.size)) return best;
    return this.spawn();
  }

  private spawn(): PoolWorker {
    const w = new PoolWorker(new Worker(new URL('./transmission-worker.js', import.meta.url)));
    this.workers.push(w);
    w.worker.on('message', (m: FromWorker) => this.onMessage(w, m));
    w.worker.on('error', (err) => this.log?.error({ err: err.message }, 'NBD transmission worker failed'));
    w.worker.on('exit', (code) => this.onExit(w, code));
    // After the listeners: attaching a 'message' listener refs the worker again.
    w.worker.unref();
    return w;
  }

  private onMessage(w: PoolWorker, m: FromWorker): void {
    switch (m.t) {
      case 'started': {
        const c = this.conns.get(m.conn);
        if (c !== undefined) c.started = true;
        break;
      }
      case 'log':
        this.relay(m.conn, m.line);
        break;
      case 'closed':
        this.finish(m.conn);
        break;
      case 'dropped': {
        const r = w.drops.get(m.dev);
        w.drops.delete(m.dev);
        w.updateRef();
        r?.();
        break;
      }
    }
  }

  /** A worker's pino line, logged again by the connection's logger (which adds its bindings). */
  private relay(conn: number, line: string): void {
    const log = this.conns.get(conn)?.log ?? this.log;
    if (log === null) return;
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    const { level, msg, time: _time, ...fields } = rec;
    const label = typeof level === 'number' ? log.levels.labels[level] : undefined;
    const text = typeof msg === 'string' ? msg : '';
    switch (label) {
      case 'fatal':
      case 'error':
        log.error(fields, text);
        break;
      case 'warn':
        log.warn(fields, text);
        break;
      case 'info':
        log.info(fields, text);
        break;
      default:
        log.debug(fields, text);
    }
  }

  private finish(id: number): void {
    const c = this.conns.get(id);
    if (c === undefined) return;
    this.conns.delete(id);
    c.worker.conns.delete(id);
    c.worker.updateRef();
    c.resolve();
  }

  /**
   * A worker that died ends its connections and its drops. The sockets it had started close with
   * the thread; those it never got to are closed here, so their clients see the end.
   */
  private onExit(w: PoolWorker, code: number): void {
    w.alive = false;
    const i = this.workers.indexOf(w);
    if (i >= 0) this.workers.splice(i, 1);
    if (code !== 0) this.log?.error({ code }, 'NBD transmission worker exited');
    for (const id of [...w.conns]) {
      const c = this.conns.get(id);
      if (c !== undefined && !c.started) closeQuietly(c.fd);
      this.finish(id);
    }
    for (const r of w.drops.values()) r();
    w.drops.clear();
    w.updateRef();
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already closed: nothing to do.
  }
}

let shared: TransmissionPool | null | undefined;

/** The process's pool, made on first use; null when CRYPTVISOR_NBD_WORKERS is 0. */
export function transmissionPool(log?: Logger): TransmissionPool | null {
  if (shared === undefined) {
    const n = configuredWorkers();
    shared = n === 0 ? null : new TransmissionPool(n, log ?? null);
  }
  return shared;
}
