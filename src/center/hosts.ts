/**
 * Hosts: agents enrolled with center. center reaches an agent over mutual TLS with its
 * `center-client` certificate and pins the agent's server certificate by the SHA-256 fingerprint
 * given at `host add` (checked on the finished handshake, before any request byte is sent);
 * `renewCertificate` renews that certificate on the agent and re-pins it in two phases.
 * After enrollment center pushes the host key (an AES-256 key of the default provider; only its
 * reference is stored). A heartbeat re-pushes the host key after an agent restart, and pushes
 * each distinct key the agent's VMs need, fetched once from its provider (DESIGN §2 steps 7–8).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KeyedSerial } from '../common/keyed-serial.js';
import type { Logger } from '../common/logging.js';
import { normalizeFingerprint } from './client.js';
import { CenterError, CenterRemoteError } from './errors.js';
import { AgentConnections } from './agent-connections.js';
import { PinMismatchError } from './pinned-tls.js';
import { isRetryable, jsonRequest } from './json-request.js';
import type { KekCache } from './kek-cache.js';
import type { ProviderManager } from './providers.js';
import type { CenterStore, HostRecord } from './store/index.js';

/** Key pushes a heartbeat keeps in flight after an agent restart (hundreds of VMs, one key each). */
const PUSH_CONCURRENCY = 8;

export interface KeyRef {
  readonly keyProviderId: string;
  readonly keyId: string;
}

export interface HeartbeatResult {
  readonly host: string;
  readonly reachable: boolean;
  readonly state: string | null;
  readonly hostKeyPushed: boolean;
  readonly keysPushed: number;
  readonly error: string | null;
}

/** The answer of an agent certificate renewal: the host (re-pinned) and the certificate it serves now. */
export interface RenewedCertificate {
  readonly host: HostRecord;
  readonly fingerprint: string;
  readonly notAfter: string;
}

export class HostManager {
  private readonly lastSeen = new Map<string, HeartbeatResult>();
  /** Certificate renewals run one at a time per host. */
  private readonly renewals = new KeyedSerial();
  /** Host-key pushes run one at a time per host, so a heartbeat and `host add` never make two keys. */
  private readonly hostKeyPushes = new KeyedSerial();
  /** Heartbeats run one at a time per host (heartbeat()). */
  private readonly heartbeats = new KeyedSerial();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  /** The optional KEK cache (kek-cache.ts; off unless center.json sets kekCacheSeconds). */
  kekCache: KekCache | undefined;

  constructor(
    private readonly store: CenterStore,
    private readonly providers: ProviderManager,
    private readonly dataDir: string,
    private readonly logger: Logger,
  ) {}

  /** Pinned mutual-TLS connections to the agents, kept alive for reuse. */
  private readonly connections = new AgentConnections(async () => {
    const pki = join(this.dataDir, 'pki');
    const [cert, key] = await Promise.all([
      readFile(join(pki, 'center-client.pem'), 'utf8'),
      readFile(join(pki, 'center-client.key'), 'utf8'),
    ]);
    return { cert, key };
  });

  /**
   * One call of the agent API on a pinned mutual-TLS connection (a new one, or one kept from before).
   * While a certificate renewal is pending, the agent may serve the current or the renewed
   * certificate; a connection served the renewed one promotes it (`promote`). A caller holding a
   * host record from before a renewal (a long task) is refused by the pin before any byte is
   * sent; the call is then made once more with the host as the store has it now.
   */
  async call<T>(
    h: Pick<HostRecord, 'url' | 'fingerprint'> & Partial<Pick<HostRecord, 'name' | 'pendingFingerprint'>>,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<T> {
    try {
      return await this.callPinned<T>(h, method, path, body);
    } catch (err) {
      if (!h.name || !((err as { cause?: unknown }).cause instanceof PinMismatchError)) throw err;
      const now = await this.store.findHost(h.name);
      if (!now || (now.fingerprint === h.fingerprint && now.pendingFingerprint === (h.pendingFingerprint ?? null))) throw err;
      return this.callPinned<T>(now, method, path, body);
    }
  }

  private async callPinned<T>(
    h: Pick<HostRecord, 'url' | 'fingerprint'> & Partial<Pick<HostRecord, 'name' | 'pendingFingerprint'>>,
    method: string,
    path: string,
    body: unknown,
  ): Promise<T> {
    const url = new URL(path, h.url);
    const unreachable = (message: string, cause?: unknown): CenterError =>
      new CenterError('host_unreachable', message, { cause });
    const { name, pendingFingerprint: pending } = h;
    const agent =
      pending && name
        ? this.connections.for(url, [h.fingerprint, pending], (served) => {
            if (served === pending) void this.promote(name, url.origin, pending);
          })
        : this.connections.for(url, h.fingerprint);
    const opts = { agent, unreachable };
    try {
      return await jsonRequest<T>(url, method, body, opts);
    } catch (err) {
      if (!isRetryable(err)) throw err;
      return jsonRequest<T>(url, method, body, opts);
    }
  }

  /** Gets a key from its provider and sends it to the agent at `path`; the key is zeroed after. */
  async pushKey(
    h: HostRecord,
    ref: KeyRef,
    method: string,
    path: string,
    extra: Record<string, string>,
  ): Promise<void> {
    const key = await this.fetchKey(ref);
    try {
      await this.call(h, method, path, { ...extra, key: key.toString('base64') });
    } finally {
      key.fill(0);
    }
  }

  /** The key from the KEK cache when it is on and holds it, else a KMIP Get; the caller zeroes it. */
  private async fetchKey(ref: KeyRef): Promise<Buffer> {
    const cached = this.kekCache?.get(ref);
    if (cached) return cached;
    const { client } = await this.providers.client(ref.keyProviderId);
    const obj = await client.get(ref.keyId);
    try {
      const key = obj.material.bytes();
      this.kekCache?.put(ref, key);
      return key;
    } finally {
      obj.material.dispose();
    }
  }

  /** Creates (and activates) a host key at the default provider; returns its reference. */
  private async createHostKey(hostId: string): Promise<KeyRef> {
    const { provider, client } = await this.providers.client();
    const keyId = await client.create({
      algorithm: 'AES',
      length: 256,
      usageMask: ['Encrypt', 'Decrypt'],
      name: `host-key-${hostId}`,
    });
    await client.activate(keyId);
    return { keyProviderId: provider.name, keyId };
  }

  private pushHostKey(h: HostRecord): Promise<HostRecord> {
    return this.hostKeyPushes.run(h.name, () => this.pushHostKeyNow(h.name));
  }

  /** Creates the host key on first use (its ID is stored), then pushes it; reads the host afresh. */
  private async pushHostKeyNow(name: string): Promise<HostRecord> {
    const h = await this.store.getHost(name);
    let host = h;
    if (!host.hostKeyId || !host.hostKeyProviderId) {
      const ref = await this.createHostKey(h.hostId);
      await this.store.setHostKey(h.name, ref.keyProviderId, ref.keyId);
      host = { ...h, hostKeyProviderId: ref.keyProviderId, hostKeyId: ref.keyId };
    }
    const ref = { keyProviderId: host.hostKeyProviderId!, keyId: host.hostKeyId! };
    await this.pushKey(host, ref, 'PUT', '/api/v1/host-key', { ...ref });
    this.logger.info({ host: h.name, keyId: ref.keyId }, 'host key pushed');
    return host;
  }

  /** Enrolls the agent at url with its one-time token, then pushes its host key. */
  async add(name: string, url: string, token: string, fingerprint: string): Promise<HostRecord> {
    let u: URL;
    try {
      u = new URL(url);
    } catch (err) {
      throw new CenterError('invalid_request', `not a URL: ${url}`, { cause: err });
    }
    if (u.protocol !== 'https:' || u.pathname !== '/')
      throw new CenterError('invalid_request', 'an agent URL is https://HOST:PORT');
    if (await this.store.findHost(name)) throw new CenterError('host_exists', `host ${name} exists`);
    const target = { url: u.origin, fingerprint: normalizeFingerprint(fingerprint) };
    const r = await this.call<{ hostId: string }>(target, 'POST', '/api/v1/enroll', { token });
    const rec = await this.store.addHost({
      name,
      ...target,
      hostId: r.hostId,
      hostKeyProviderId: null,
      hostKeyId: null,
    });
    return this.pushHostKey(rec);
  }

  /**
   * A host's key from its provider, base64, for `dump decrypt --host` (Cryptographer.ManageKeys,
   * audited by the route). The buffer is zeroed; the base64 string goes to the caller.
   */
  async hostKey(name: string): Promise<KeyRef & { key: string }> {
    const h = await this.store.getHost(name);
    if (!h.hostKeyProviderId || !h.hostKeyId)
      throw new CenterError('key_not_found', `host ${name} has no host key yet`);
    const ref = { keyProviderId: h.hostKeyProviderId, keyId: h.hostKeyId };
    const { client } = await this.providers.client(ref.keyProviderId);
    const obj = await client.get(ref.keyId);
    try {
      return { ...ref, key: obj.material.use((b) => Buffer.from(b).toString('base64')) };
    } finally {
      obj.material.dispose();
    }
  }

  /**
   * The pending fingerprint becomes the pinned one (if it still is the pending one), and kept
   * connections that accept anything else are closed. Failures are logged: the next renew-cert
   * or served connection promotes again.
   */
  private async promote(name: string, origin: string, fingerprint: string): Promise<void> {
    try {
      if (await this.store.promoteHostFingerprint(name, fingerprint))
        this.logger.info({ host: name, fingerprint }, 'agent certificate renewal: new fingerprint pinned');
      const h = await this.store.findHost(name);
      if (h && h.fingerprint === fingerprint && !h.pendingFingerprint) this.connections.retain(origin, fingerprint);
    } catch (err) {
      this.logger.warn({ host: name, error: (err as Error).message }, 'agent certificate renewal: promotion failed');
    }
  }

  /**
   * Renews the agent's server certificate (same subject and SANs, a new key pair) and re-pins it:
   * renew on the agent (server.next), record the fingerprint as pending (accepted alongside the
   * current one), activate on the agent, promote. A pending fingerprint left by an interrupted
   * renewal is activated first; if the agent no longer holds it, it is forgotten and a new
   * renewal starts. Returns the host and the served certificate's fingerprint and notAfter.
   */
  renewCertificate(name: string, days: number | undefined): Promise<RenewedCertificate> {
    // One renewal per host at a time: a second request waits, then completes or restarts.
    return this.renewals.run(name, () => this.renewCertificateNow(name, days));
  }

  private async renewCertificateNow(name: string, days: number | undefined): Promise<RenewedCertificate> {
    let h = await this.store.getHost(name);
    const origin = new URL(h.url).origin;
    const finish = async (fingerprint: string): Promise<RenewedCertificate> => {
      const r = await this.call<{ fingerprint: string; notAfter: string }>(h, 'POST', '/api/v1/certificate/activate', { fingerprint });
      await this.promote(name, origin, fingerprint);
      const host = await this.store.getHost(name);
      if (host.fingerprint !== fingerprint)
        throw new CenterError('host_unreachable', `host ${name}: the renewed certificate ${fingerprint} was not pinned (another renewal replaced it)`);
      return { host, fingerprint: r.fingerprint, notAfter: r.notAfter };
    };
    if (h.pendingFingerprint) {
      try {
        return await finish(h.pendingFingerprint);
      } catch (err) {
        // The agent holds no such renewed certificate (it was replaced or never written): start over.
        if (!(err instanceof CenterRemoteError && err.code === 'invalid_request')) throw err;
        this.logger.info({ host: name, fingerprint: h.pendingFingerprint }, 'agent certificate renewal: stale pending fingerprint dropped');
        await this.store.setHostPendingFingerprint(name, null);
        h = await this.store.getHost(name);
      }
    }
    const next = await this.call<{ fingerprint: string; notAfter: string }>(
      h,
      'POST',
      '/api/v1/certificate/renew',
      days === undefined ? {} : { days },
    );
    const fingerprint = normalizeFingerprint(next.fingerprint);
    await this.store.setHostPendingFingerprint(name, fingerprint);
    h = await this.store.getHost(name);
    return finish(fingerprint);
  }

  async remove(name: string): Promise<void> {
    await this.store.removeHost(name);
    this.lastSeen.delete(name);
  }

  /**
   * One heartbeat: host key again after a restart; each distinct needed key fetched once and pushed.
   * Heartbeats of one host run one after another (the periodic one and one asked for through the
   * API), so two never fetch and push the same missing keys at once.
   */
  heartbeat(name: string): Promise<HeartbeatResult> {
    return this.heartbeats.run(name, () => this.heartbeatNow(name));
  }

  private async heartbeatNow(name: string): Promise<HeartbeatResult> {
    const h = await this.store.getHost(name);
    let result: HeartbeatResult;
    try {
      const info = await this.call<{ state: string; hostKeyId: string | null }>(h, 'GET', '/api/v1/info');
      const hostKeyPushed = info.hostKeyId === null;
      if (hostKeyPushed) await this.pushHostKey(h);
      // Only the keys the agent lacks: a steady host costs no KMIP Get per heartbeat.
      const needed = (await this.call<{ keys: KeyRef[] }>(h, 'GET', '/api/v1/missing-keys')).keys;
      const distinct = new Map(needed.map((k) => [`${k.keyProviderId}\u0000${k.keyId}`, k]));
      // Each distinct key once; PUSH_CONCURRENCY pushes in flight (a KMIP Get and an agent call each).
      // A key the provider cannot give (destroyed by a shred, KMS down) does not hold back the
      // others: its failure is reported, the remaining keys are still pushed.
      const refs = [...distinct.values()];
      const failed: string[] = [];
      let pushed = 0;
      let next = 0;
      const worker = async (): Promise<void> => {
        for (let ref = refs[next++]; ref; ref = refs[next++]) {
          const path = `/api/v1/keys/${encodeURIComponent(ref.keyProviderId)}/${encodeURIComponent(ref.keyId)}`;
          try {
            await this.pushKey(h, ref, 'PUT', path, {});
            pushed++;
          } catch (err) {
            if (err instanceof CenterError && err.code === 'host_unreachable') throw err;
            failed.push(`${ref.keyProviderId}/${ref.keyId}: ${(err as Error).message}`);
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(PUSH_CONCURRENCY, refs.length) }, worker));
      const after = await this.call<{ state: string }>(h, 'GET', '/api/v1/info');
      const error =
        failed.length === 0 ? null : `${failed.length} of ${refs.length} keys not pushed: ${failed.join('; ')}`;
      if (error) this.logger.warn({ host: name, error }, 'heartbeat: keys not pushed');
      result = {
        host: name,
        reachable: true,
        state: after.state,
        hostKeyPushed,
        keysPushed: pushed,
        error,
      };
    } catch (err) {
      const e =
        err instanceof CenterError || (err as { code?: unknown }).code !== undefined
          ? (err as Error).message
          : 'heartbeat failed';
      this.logger.warn({ host: name, error: e }, 'heartbeat failed');
      result = {
        host: name,
        reachable: !(err instanceof CenterError && err.code === 'host_unreachable'),
        state: null,
        hostKeyPushed: false,
        keysPushed: 0,
        error: e,
      };
    }
    this.lastSeen.set(name, result);
    return result;
  }

  last(name: string): HeartbeatResult | undefined {
    return this.lastSeen.get(name);
  }

  /** Heartbeats every host each intervalMs (runs never overlap). */
  start(intervalMs: number): void {
    const tick = (): void => {
      if (this.running) return;
      this.running = (async () => {
        for (const h of await this.store.listHosts()) await this.heartbeat(h.name);
      })()
        .catch((err: unknown) =>
          this.logger.warn({ error: (err as Error).message }, 'heartbeat round failed'),
        )
        .finally(() => (this.running = undefined));
    };
    this.timer = setInterval(tick, intervalMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
    this.connections.close();
  }
}

export function hostView(h: HostRecord, last: HeartbeatResult | undefined): Record<string, unknown> {
  return {
    name: h.name,
    url: h.url,
    hostId: h.hostId,
    fingerprint: h.fingerprint,
    hostKeyProviderId: h.hostKeyProviderId,
    hostKeyId: h.hostKeyId,
    state: last?.state ?? null,
    reachable: last?.reachable ?? null,
    createdAt: h.createdAt,
  };
}
