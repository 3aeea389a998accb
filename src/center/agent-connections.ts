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

class PinnedAgent extends Agent {
  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly fingerprint: string,
    private readonly identity: () => Promise<ClientIdentity>,
  ) {
    super({ keepAlive: true, maxSockets: MAX_SOCKETS, maxFreeSockets: MAX_SOCKETS, timeout: IDLE_MS });
  }

  override createConnection(
    _options: ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): undefined {
    this.identity()
      .then((id) => pinnedConnect(this.host, this.port, this.fingerprint, id))
      .then(
        (socket) => callback?.(null, socket),
        (err: unknown) => callback?.(err as Error, undefined as unknown as Duplex),
      );
    return undefined;
  }
}

export class AgentConnections {
  readonly #agents = new Map<string, PinnedAgent>();

  constructor(private readonly identity: () => Promise<ClientIdentity>) {}

  /** The HTTPS agent for one agent URL and its pinned certificate fingerprint. */
  for(url: URL, fingerprint: string): Agent {
    const key = `${url.origin} ${fingerprint}`;
    let a = this.#agents.get(key);
    if (!a) {
      a = new PinnedAgent(
        url.hostname.replace(/^\[(.*)\]$/, '$1'),
        Number(url.port || 443),
        fingerprint,
        this.identity,
      );
      this.#agents.set(key, a);
    }
    return a;
  }

  /** Closes every kept connection (center shutdown). */
  close(): void {
    for (const a of this.#agents.values()) a.destroy();
    this.#agents.clear();
  }
}
