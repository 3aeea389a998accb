/**
 * Kept-alive, pinned mutual-TLS connections from center to each agent. A TLS handshake per agent
 * call cost tens of milliseconds and dominated operations over many VMs; one HTTPS agent per
 * {origin, pinned fingerprint} keeps up to MAX_SOCKETS connections open for reuse. Every new
 * connection is made by pinnedConnect, which checks the agent's certificate fingerprint on the
 * finished handshake before the socket is handed to HTTP, so no request byte ever leaves on an
 * unverified connection, exactly as with one connection per call.
 */
import { Agent } from 'node:https';
import type { ClientRequestArgs } from 'node:http';
import type { Duplex } from 'node:stream';
import { pinnedConnect } from './pinned-tls.js';

/** Connections kept per agent: enough for the heartbeat's and the tasks' concurrent calls. */
const MAX_SOCKETS = 16;
/** Below the agent's HTTP keep-alive timeout (Node's default, 5 s), so center closes first. */
const IDLE_MS = 4_000;

export interface ClientIdentity {
  readonly cert: string;
  readonly key: string;
}

/** Called with the fingerprint an agent served on each new connection. */
export type ServedListener = (fingerprint: string) => void;

class PinnedAgent extends Agent {
  constructor(
    readonly origin: string,
    private readonly host: string,
    private readonly port: number,
    private readonly fingerprints: readonly string[],
    private readonly identity: () => Promise<ClientIdentity>,
    private readonly onServed: ServedListener | undefined,
  ) {
    super({ keepAlive: true, maxSockets: MAX_SOCKETS, maxFreeSockets: MAX_SOCKETS, timeout: IDLE_MS });
  }

  /** Retired: its idle connections are closed, and busy ones are closed when their call ends. */
  private retired = false;

  retire(): void {
    this.retired = true;
    for (const list of Object.values(this.freeSockets)) for (const socket of list ?? []) socket.destroy();
  }

  override keepSocketAlive(socket: Duplex): boolean {
    if (this.retired) return false;
    return (super.keepSocketAlive as (s: Duplex) => boolean)(socket);
  }

  override createConnection(
    _options: ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): undefined {
    this.identity()
      .then((id) => pinnedConnect(this.host, this.port, this.fingerprints, id))
      .then(
        (socket) => {
          const served = socket.getPeerCertificate().fingerprint256;
          if (this.onServed && served) this.onServed(served);
          callback?.(null, socket);
        },
        (err: unknown) => callback?.(err as Error, undefined as unknown as Duplex),
      );
    return undefined;
  }
}

export class AgentConnections {
  readonly #agents = new Map<string, PinnedAgent>();

  constructor(private readonly identity: () => Promise<ClientIdentity>) {}

  /**
   * The HTTPS agent for one agent URL and the certificate fingerprints accepted from it (one; two
   * while a renewal is in progress). `onServed` (fixed when that pair is first asked for) hears
   * which fingerprint each new connection was served.
   */
  for(url: URL, fingerprints: string | readonly string[], onServed?: ServedListener): Agent {
    const list: readonly string[] = typeof fingerprints === 'string' ? [fingerprints] : fingerprints;
    const key = `${url.origin} ${list.join(' ')}`;
    let a = this.#agents.get(key);
    if (!a) {
      a = new PinnedAgent(
        url.origin,
        url.hostname.replace(/^\[(.*)\]$/, '$1'),
        Number(url.port || 443),
        list,
        this.identity,
        onServed,
      );
      this.#agents.set(key, a);
    }
    return a;
  }

  /**
   * Keeps only the connections to `origin` that accept exactly `fingerprint`: every other kept
   * connection to it (pinned to a replaced certificate, or to the pair of a finished renewal) is
   * closed (idle ones now, busy ones when their call ends), so no new call reaches the agent on a
   * certificate center no longer pins.
   */
  retain(origin: string, fingerprint: string): void {
    for (const [key, a] of this.#agents) {
      if (a.origin === origin && key !== `${origin} ${fingerprint}`) {
        a.retire();
        this.#agents.delete(key);
      }
    }
  }

  /** Closes every kept connection (center shutdown). */
  close(): void {
    for (const a of this.#agents.values()) a.destroy();
    this.#agents.clear();
  }
}
