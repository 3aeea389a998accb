/**
 * Persistent KMIP connections to the servers of one cluster, with failover.
 *
 * Each server has up to `poolSize` connections; a request takes an idle one (or opens one, or
 * waits for one), and gives it back when answered. Servers are tried in order starting from the
 * last one that answered: a connection failure, a TLS failure, a closed connection or a timeout
 * moves to the next server; a KMIP error result does not (the caller gets it as is).
 */
import { KmipClientError, FAILOVER_CODES } from './client-errors.js';
import { KmipConnection, endpointName, type KmipEndpoint, type KmipTlsContext } from './client-connection.js';

export interface PoolOptions {
  readonly servers: readonly KmipEndpoint[];
  readonly tls: KmipTlsContext;
  /** Per connection attempt and per request. */
  readonly timeoutMs: number;
  /** Connections per server. */
  readonly poolSize: number;
  readonly maxMessageBytes: number;
  /** Told about each failover (for a logger); never given key material. */
  readonly onFailover?: (from: KmipEndpoint, err: KmipClientError) => void;
}

type Waiter = (conn: KmipConnection | null, err?: KmipClientError) => void;

class ServerSlot {
  readonly endpoint: KmipEndpoint;
  readonly idle: KmipConnection[] = [];
  readonly waiters: Waiter[] = [];
  open = 0;

  constructor(endpoint: KmipEndpoint) {
    this.endpoint = endpoint;
  }
}

export class KmipPool {
  readonly #opts: PoolOptions;
  readonly #slots: ServerSlot[];
  #preferred = 0;
  #closed = false;

  constructor(opts: PoolOptions) {
    if (opts.servers.length === 0)
      throw new KmipClientError('argument_invalid', 'a KMIP client needs at least one server');
    if (!Number.isInteger(opts.poolSize) || opts.poolSize < 1)
      throw new KmipClientError('argument_invalid', 'poolSize must be a positive integer');
    if (!(opts.timeoutMs > 0)) throw new KmipClientError('argument_invalid', 'timeoutMs must be positive');
    this.#opts = opts;
    this.#slots = opts.servers.map((e) => new ServerSlot(e));
  }

  /** The server that answered last (where the next request goes first). */
  get currentServer(): KmipEndpoint {
    return this.#slots[this.#preferred]!.endpoint;
  }

  /** Connections open now, per server (for tests and metrics). */
  openConnections(): number[] {
    return this.#slots.map((s) => s.open);
  }

  /**
   * Sends one encoded request to the first server that answers and resolves with the raw
   * response. Throws `unavailable` (with every server's failure) when none answers.
   */
  async request(message: Uint8Array): Promise<Buffer> {
    const n = this.#slots.length;
    const failures: string[] = [];
    let last: KmipClientError | undefined;
    // Fixed for this request: concurrent requests move #preferred while this one waits.
    const start = this.#preferred;
    for (let i = 0; i < n; i++) {
      if (this.#closed) throw new KmipClientError('client_closed', 'the KMIP client is closed');
      const idx = (start + i) % n;
      const slot = this.#slots[idx]!;
      try {
        const response = await this.#requestOn(slot, message);
        this.#preferred = idx;
        return response;
      } catch (err) {
        if (!(err instanceof KmipClientError) || !FAILOVER_CODES.has(err.code)) throw err;
        last = err;
        failures.push(`${endpointName(slot.endpoint)}: ${err.message}`);
        this.#opts.onFailover?.(slot.endpoint, err);
      }
    }
    if (n === 1 && last) throw last;
    throw new KmipClientError('unavailable', `no KMIP server answered (${failures.join('; ')})`, {
      cause: last,
    });
  }

  /** Closes every connection; pending waiters fail with client_closed. */
  close(): void {
    this.#closed = true;
    for (const slot of this.#slots) {
      for (const c of slot.idle.splice(0)) c.close();
      for (const w of slot.waiters.splice(0))
        w(null, new KmipClientError('client_closed', 'the KMIP client is closed'));
    }
  }

  async #requestOn(slot: ServerSlot, message: Uint8Array): Promise<Buffer> {
    for (let attempt = 0; ; attempt++) {
      const conn = await this.#acquire(slot);
      const reused = conn.used > 0;
      try {
        return await conn.request(message, this.#opts.timeoutMs);
      } catch (err) {
        // A pooled connection the server closed while it sat idle: retry once on a fresh one.
        if (reused && attempt === 0 && err instanceof KmipClientError && err.code === 'connection_closed')
          continue;
        throw err;
      } finally {
        this.#release(slot, conn);
      }
    }
  }

  async #acquire(slot: ServerSlot): Promise<KmipConnection> {
    for (;;) {
      if (this.#closed) throw new KmipClientError('client_closed', 'the KMIP client is closed');
      while (slot.idle.length > 0) {
        const c = slot.idle.pop()!;
        if (c.alive) return c;
        slot.open--;
      }
      if (slot.open < this.#opts.poolSize) {
        slot.open++;
        try {
          return await KmipConnection.open(slot.endpoint, this.#opts.tls, {
            timeoutMs: this.#opts.timeoutMs,
            maxMessageBytes: this.#opts.maxMessageBytes,
          });
        } catch (err) {
          slot.open--;
          // Whoever waits for this server learns of the failure too, instead of queueing behind it.
          for (const w of slot.waiters.splice(0)) w(null, err as KmipClientError);
          throw err;
        }
      }
      const got = await new Promise<KmipConnection | null>((resolve, reject) =>
        slot.waiters.push((c, e) => (e ? reject(e) : resolve(c))),
      );
      if (got) return got;
    }
  }

  #release(slot: ServerSlot, conn: KmipConnection): void {
    if (!conn.alive || this.#closed) {
      if (conn.alive) conn.close();
      slot.open--;
      slot.waiters.shift()?.(null);
      return;
    }
    const w = slot.waiters.shift();
    if (w) w(conn);
    else slot.idle.push(conn);
  }
}
