/**
 * Events and alarms (docs/center.md, "Alarms and events"). A periodic check (every
 * `alarmCheckSeconds`, and after a heartbeat that failed with its host reachable) raises and
 * clears alarms by itself:
 * - `kms_unreachable`: a server of a key provider refuses mutual TLS or a KMIP Locate;
 * - `certificate_expiring`: within 30 days (or expired): center's server and client certificates,
 *   each provider's client certificate, the KMS server certificates seen, the agents' certificates;
 * - `vm_locked`: an agent reports a VM locked (it lacks its KEK);
 * - `key_missing`: a key that a VM or host uses is unknown or destroyed at its provider;
 * - `host_unreachable`: an agent does not answer.
 * Each raise and clear is written to the audit log (actor `center`) and logged.
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from 'node:tls';
import type { Logger } from '../common/logging.js';
import type { HeartbeatResult, HostManager } from './hosts.js';
import { hostInventories, keyStateAt, usedKeys, type HostInventory } from './key-status.js';
import type { ProviderManager } from './providers.js';
import { AlarmStore, type AlarmKind, type AlarmRecord } from './store/alarm-store.js';
import type { CenterStore, HostRecord } from './store/index.js';

/** Certificates expiring within this many days raise `certificate_expiring`. */
export const CERT_WARNING_DAYS = 30;
const CRITICAL_DAYS = 7;
/** The least time between two checks that lasting heartbeat failures trigger. */
const AUTO_CHECK_MS = 30_000;

export interface CheckReport {
  readonly raised: number;
  readonly cleared: number;
  readonly active: number;
}

function daysLeft(notAfter: string | Date): number {
  return Math.floor((new Date(notAfter).getTime() - Date.now()) / 86_400_000);
}

/** The expiry of the certificate an agent serves (its pinned identity is not checked here: only read). */
function agentCertificateExpiry(h: HostRecord, cert: string, key: string): Promise<string> {
  const url = new URL(h.url);
  return new Promise((resolve, reject) => {
    const sock = connect({
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: Number(url.port || 443),
      cert,
      key,
      rejectUnauthorized: false,
      timeout: 5000,
    });
    sock.once('secureConnect', () => {
      const notAfter = sock.getPeerCertificate().valid_to;
      sock.destroy();
      resolve(new Date(notAfter).toISOString());
    });
    sock.once('timeout', () => sock.destroy(new Error('timed out')));
    sock.once('error', reject);
  });
}

export class AlarmService {
  readonly alarms: AlarmStore;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<CheckReport> | undefined;
  private counts = { raised: 0, cleared: 0 };
  private lastAutoCheck = 0;

  constructor(
    private readonly store: CenterStore,
    private readonly providers: ProviderManager,
    private readonly hosts: HostManager,
    private readonly dataDir: string,
    private readonly logger: Logger,
  ) {
    this.alarms = new AlarmStore(store.db);
  }

  list(all = false): Promise<AlarmRecord[]> {
    return this.alarms.list({ all });
  }

  async activeByKind(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const a of await this.alarms.list()) out[a.kind] = (out[a.kind] ?? 0) + 1;
    return out;
  }

  /** Raises an alarm (audited and logged when it is new). */
  async raise(kind: AlarmKind, target: string, message: string, critical = false): Promise<void> {
    const r = await this.alarms.raise(kind, target, critical ? 'critical' : 'warning', message);
    if (!r.raised) return;
    this.counts.raised++;
    this.logger.warn({ alarm: kind, target, severity: r.alarm.severity, message }, 'alarm raised');
    await this.store.appendAudit({
      actor: 'center',
      action: 'alarm.raise',
      target: `${kind}:${target}`,
      result: 'ok',
      detail: { severity: r.alarm.severity, message },
    });
  }

  /** Clears an alarm (audited and logged when one was active). */
  async clear(kind: AlarmKind, target: string): Promise<void> {
    const a = await this.alarms.clear(kind, target);
    if (!a) return;
    this.counts.cleared++;
    this.logger.info({ alarm: kind, target }, 'alarm cleared');
    await this.store.appendAudit({
      actor: 'center',
      action: 'alarm.clear',
      target: `${kind}:${target}`,
      result: 'ok',
      detail: { raisedAt: a.raisedAt },
    });
  }

  /** Clears every active alarm of `kind` whose target is not in `keep` and matches `scope`. */
  private async clearOthers(kind: AlarmKind, keep: ReadonlySet<string>, scope: (t: string) => boolean): Promise<void> {
    for (const a of await this.alarms.list()) {
      if (a.kind === kind && !keep.has(a.target) && scope(a.target)) await this.clear(kind, a.target);
    }
  }

  private async certificate(target: string, notAfter: string): Promise<void> {
    const days = daysLeft(notAfter);
    if (days < CERT_WARNING_DAYS) {
      const when = days < 0 ? `expired on ${notAfter}` : `expires on ${notAfter} (${days} days left)`;
      await this.raise('certificate_expiring', target, `certificate ${target} ${when}`, days <= CRITICAL_DAYS);
    } else {
      await this.clear('certificate_expiring', target);
    }
  }

  private async checkCenterCertificates(): Promise<void> {
    const pki = join(this.dataDir, 'pki');
    for (const [target, file] of [
      ['center:server', 'server.pem'],
      ['center:client', 'center-client.pem'],
      ['center:ca', 'ca.pem'],
    ] as const) {
      const pem = await readFile(join(pki, file), 'utf8').catch(() => undefined);
      if (pem) await this.certificate(target, new X509Certificate(pem).validTo);
    }
  }

  /** Per provider: each server's connection and certificate, and center's client certificate. */
  async checkProviders(): Promise<void> {
    for (const p of await this.store.listProviders()) {
      let st;
      try {
        st = await this.providers.status(p.name);
      } catch (err) {
        await this.raise('kms_unreachable', p.name, `provider ${p.name}: ${(err as Error).message}`, true);
        continue;
      }
      const down = st.servers.filter((s) => !s.connected);
      if (down.length > 0) {
        const all = down.length === st.servers.length;
        const what = down.map((s) => `${s.server} (${s.error ?? 'refused'})`).join(', ');
        await this.raise(
          'kms_unreachable',
          p.name,
          all
            ? `no server of provider ${p.name} answers: ${what}`
            : `provider ${p.name}: ${what} unreachable; the others answer`,
          all,
        );
      } else {
        await this.clear('kms_unreachable', p.name);
      }
      await this.certificate(`provider-client:${p.name}`, st.clientCertificateExpires);
      for (const s of st.servers)
        if (s.certificateExpires) await this.certificate(`kms-server:${p.name}/${s.server}`, s.certificateExpires);
    }
  }

  private async checkHosts(inv: readonly HostInventory[]): Promise<void> {
    const pki = join(this.dataDir, 'pki');
    const [cert, key] = await Promise.all([
      readFile(join(pki, 'center-client.pem'), 'utf8'),
      readFile(join(pki, 'center-client.key'), 'utf8'),
    ]);
    for (const i of inv) {
      const h = i.host.name;
      if (i.vms === null) {
        await this.raise('host_unreachable', h, `host ${h}: ${i.error ?? 'unreachable'}`, true);
        continue;
      }
      await this.clear('host_unreachable', h);
      const expires = await agentCertificateExpiry(i.host, cert, key).catch(() => undefined);
      if (expires) await this.certificate(`agent:${h}`, expires);
      const locked = new Set<string>();
      for (const v of i.vms) {
        if (v.cryptoState !== 'locked') continue;
        locked.add(v.name);
        await this.raise(
          'vm_locked',
          v.name,
          `VM ${v.name} on ${h} is locked: its host lacks key ${v.keyId ?? '(unknown)'} of ${v.keyProviderId ?? '?'}`,
        );
      }
      const here = new Set(i.vms.map((v) => v.name));
      await this.clearOthers('vm_locked', locked, (t) => here.has(t));
    }
    // VMs gone from every reachable host (deleted, moved away) are no longer locked there.
    const everywhere = new Set(inv.flatMap((i) => (i.vms ?? []).map((v) => v.name)));
    const unknown = inv.some((i) => i.vms === null);
    if (!unknown) await this.clearOthers('vm_locked', new Set(), (t) => !everywhere.has(t));
  }

  private async checkKeys(inv: readonly HostInventory[]): Promise<void> {
    const missing = new Set<string>();
    const checked = new Set<string>();
    for (const ref of usedKeys(inv)) {
      let client;
      try {
        client = (await this.providers.client(ref.keyProviderId)).client;
      } catch {
        continue;
      }
      const st = await keyStateAt(ref.keyProviderId, client, ref.keyId);
      const target = `${ref.keyProviderId}/${ref.keyId}`;
      if (!st.missing && st.error !== null) continue; // the provider did not answer: kms_unreachable says so
      checked.add(target);
      if (st.available) continue;
      missing.add(target);
      await this.raise(
        'key_missing',
        target,
        st.missing
          ? `key ${ref.keyId} is not at provider ${ref.keyProviderId}`
          : `key ${ref.keyId} at provider ${ref.keyProviderId} is ${st.state ?? 'unusable'}`,
        true,
      );
    }
    const unknown = inv.some((i) => i.vms === null);
    await this.clearOthers('key_missing', missing, (t) => checked.has(t) || !unknown);
  }

  /** One full check; concurrent callers share the running one. */
  check(): Promise<CheckReport> {
    this.running ??= this.checkNow().finally(() => (this.running = undefined));
    return this.running;
  }

  private async checkNow(): Promise<CheckReport> {
    const before = { ...this.counts };
    const step = async (what: string, fn: () => Promise<void>): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        this.logger.warn({ check: what, error: (err as Error).message }, 'alarm check failed');
      }
    };
    await step('center certificates', () => this.checkCenterCertificates());
    await step('providers', () => this.checkProviders());
    const inv = await hostInventories(this.store, this.hosts);
    await step('hosts', () => this.checkHosts(inv));
    await step('keys', () => this.checkKeys(inv));
    return {
      raised: this.counts.raised - before.raised,
      cleared: this.counts.cleared - before.cleared,
      active: (await this.alarms.list()).length,
    };
  }

  /**
   * After a heartbeat, a check runs at once when the heartbeat changed something the alarms say:
   * a host newly unreachable, a heartbeat succeeding while its host or a KMS is alarmed (so a KMS
   * coming back clears its alarm and the VMs it unlocked). A heartbeat that failed with its host
   * answering (the KMS did not give a key), or while VMs are alarmed locked, checks at most once
   * every AUTO_CHECK_MS, so a lasting condition does not make every heartbeat a full check.
   */
  async onHeartbeat(r: HeartbeatResult): Promise<void> {
    const active = await this.alarms.list();
    const hostDown = active.some((a) => a.kind === 'host_unreachable' && a.target === r.host);
    const kmsDown = active.some((a) => a.kind === 'kms_unreachable');
    const changed = (!r.reachable && !hostDown) || (r.error === null && (hostDown || kmsDown));
    const lasting = (r.error !== null && r.reachable) || active.some((a) => a.kind === 'vm_locked');
    if (changed || (lasting && Date.now() - this.lastAutoCheck >= AUTO_CHECK_MS)) {
      this.lastAutoCheck = Date.now();
      await this.check();
    }
  }

  /** Checks every intervalMs (0: never; checks then run on demand and after heartbeats). */
  start(intervalMs: number): void {
    if (intervalMs <= 0) return;
    this.timer = setInterval(() => void this.check().catch(() => undefined), intervalMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }
}
