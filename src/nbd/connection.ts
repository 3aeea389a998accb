/**
 * One client connection: the handshake, then the transmission phase. Whatever the client does,
 * the outcome is a reply or a closed connection, never an exception that reaches the server.
 */
import type { Duplex } from 'node:stream';
import type { Logger } from '../common/logging.js';
import { NbdError } from './errors.js';
import { Handshake, READER_HIGH_WATER, type HandshakeEnv } from './handshake.js';
import { StreamRequests } from './requests.js';
import { detachSocket, openSocketRequests } from './socket-requests.js';
import { Transmission } from './transmission.js';
import type { RemoteConnection } from './transmission-pool.js';
import type { WorkLimit } from './work-limit.js';

export class NbdConnection {
  private stream: Duplex;
  private transmission: Transmission | null = null;
  /** Set once a transmission worker serves the connection. */
  private remote: RemoteConnection | null = null;
  private closing = false;
  private readonly log: Logger;
  private readonly timer: NodeJS.Timeout;
  private readonly limit: WorkLimit;

  /** `limit` bounds the device requests running at once, shared by all connections of a server. */
  constructor(stream: Duplex, log: Logger, handshakeTimeoutMs: number, limit: WorkLimit) {
    this.stream = stream;
    this.log = log;
    this.limit = limit;
    // A client that never finishes the handshake does not keep its connection forever.
    this.timer = setTimeout(() => {
      if (this.transmission === null && this.remote === null) {
        this.log.warn('handshake timed out');
        this.stream.destroy();
      }
    }, handshakeTimeoutMs);
    this.timer.unref();
  }

  private readonly onSocketError = (err: Error): void => this.log.debug({ err: err.message }, 'socket error');

  /** Runs the connection to its end; never rejects. */
  async serve(env: HandshakeEnv): Promise<void> {
    this.stream.on('error', this.onSocketError);
    const hs = new Handshake(this.stream, env);
    try {
      const neg = await hs.run();
      clearTimeout(this.timer);
      this.stream = hs.stream;
      if (neg === null || this.closing) {
        this.stream.end();
        return;
      }
      this.stream.on('error', this.onSocketError);
      const remote = neg.tls ? undefined : neg.export.remote;
      const detached = remote === undefined ? null : detachSocket(neg.stream, neg.reader);
      this.log.debug({ export: neg.export.name, tls: neg.tls, structured: neg.structured, worker: detached !== null }, 'transmission phase');
      if (remote !== undefined && detached !== null) {
        const { readOnly, name } = neg.export;
        this.remote = remote.handoff({ ...detached, structured: neg.structured, readOnly, name, log: this.log });
        await this.remote.done;
        return;
      }
      const alloc = (n: number): Buffer => neg.export.buffers.take(n);
      const direct = neg.tls ? null : openSocketRequests(neg.stream, neg.reader, alloc, READER_HIGH_WATER);
      if (direct !== null) {
        this.stream = direct.socket;
        this.stream.on('error', this.onSocketError);
      }
      const source = direct ?? new StreamRequests(neg.reader, alloc);
      this.transmission = new Transmission(this.stream, source, neg.export, neg.structured, this.log, this.limit);
      await this.transmission.run();
      this.stream.end();
    } catch (err) {
      // A failed handshake may have upgraded to TLS; once transmitting, this.stream is current.
      if (this.transmission === null && this.remote === null) this.stream = hs.stream;
      if (err instanceof NbdError && err.code === 'closed') this.log.debug('client went away');
      else this.log.warn({ err: (err as Error).message }, 'closing the connection');
      this.stream.destroy();
    } finally {
      clearTimeout(this.timer);
    }
  }

  /** Stops taking requests; serve() finishes those in flight, then closes. */
  shutdown(): void {
    this.closing = true;
    if (this.remote !== null) this.remote.stop();
    else if (this.transmission !== null) this.transmission.stop();
    else this.stream.destroy();
  }
}
