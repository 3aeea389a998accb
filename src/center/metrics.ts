/**
 * center's Prometheus metrics (text exposition format 0.0.4 on `GET /metrics`): API requests by
 * route template and status, KMIP calls by provider, operation and result, heartbeats by
 * result, tasks by kind and state with finished tasks' durations, and active alarms by kind. Plain
 * counters, no dependency. Label values are route templates and names, never request data or keys.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { toCryptvisorError } from '../common/errors.js';
import type { KmipClient } from '../kmip/client.js';
import { sendJson } from './http-io.js';
import type { HeartbeatResult } from './hosts.js';
import { HostManager } from './hosts.js';
import { ProviderManager } from './providers.js';
import { ROUTES, type CenterServices } from './routes.js';
import type { ProviderRecord } from './store/index.js';

const BUCKETS_SECONDS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800];

/** The KMIP operations center uses against a provider (DESIGN §2), the ones that are counted. */
export const KMIP_OPERATIONS = [
  'create',
  'activate',
  'get',
  'getAttributes',
  'locate',
  'revoke',
  'destroy',
  'registerSecretData',
] as const;

/** What the metrics read of a task. */
export interface TaskSummary {
  readonly kind: string;
  readonly state: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

const FINISHED: ReadonlySet<string> = new Set(['succeeded', 'failed', 'cancelled']);

interface Histogram {
  readonly counts: number[];
  sum: number;
  count: number;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labels(names: readonly string[], key: string): string {
  const values = key.split('\u0000');
  return names.map((n, i) => `${n}="${escapeLabel(values[i] ?? '')}"`).join(',');
}

function bump(m: Map<string, number>, key: string, by = 1): void {
  m.set(key, (m.get(key) ?? 0) + by);
}

export class CenterMetrics {
  private readonly requests = new Map<string, number>();
  private readonly kmip = new Map<string, number>();
  private readonly heartbeats = new Map<string, number>();
  private readonly started = Date.now();
  private readonly metered = new WeakMap<KmipClient, KmipClient>();
  /** Center's tasks (kind, state, start and last update), read at scrape time. */
  tasks: () => Promise<readonly TaskSummary[]> = async () => [];
  /** Active alarms by kind, read at scrape time. */
  activeAlarms: () => Promise<Readonly<Record<string, number>>> = async () => ({});

  /** One API request answered: method, route template (or `unmatched`), HTTP status. */
  request(method: string, route: string, status: number): void {
    bump(this.requests, [method, route, String(status)].join('\u0000'));
  }

  /** One KMIP call center made: provider, operation (client method name), `ok` or the error code. */
  kmipCall(provider: string, operation: string, result: string): void {
    bump(this.kmip, [provider, operation, result].join('\u0000'));
  }

  /** The number of KMIP calls of one operation (all providers, all results), for tests and benches. */
  kmipCount(operation: string, result?: string): number {
    let n = 0;
    for (const [k, v] of this.kmip) {
      const [, op, res] = k.split('\u0000');
      if (op === operation && (result === undefined || res === result)) n += v;
    }
    return n;
  }

  heartbeat(r: HeartbeatResult): void {
    bump(this.heartbeats, r.error === null ? 'ok' : r.reachable ? 'failed' : 'unreachable');
  }

  /**
   * The client with each KMIP operation counted under the provider's name. The client's methods
   * are called on the client itself (its private fields stay reachable); one wrapper per client.
   */
  meter(provider: string, client: KmipClient): KmipClient {
    const known = this.metered.get(client);
    if (known) return known;
    const ops = new Set<string>(KMIP_OPERATIONS);
    const wrapped = new Proxy(client, {
      get: (target, prop, receiver) => {
        const v: unknown = Reflect.get(target, prop, receiver === wrapped ? target : receiver);
        if (typeof prop !== 'string' || !ops.has(prop) || typeof v !== 'function') {
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        }
        return async (...args: unknown[]) => {
          try {
            const r: unknown = await (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
            this.kmipCall(provider, prop, 'ok');
            return r;
          } catch (err) {
            const code = (err as { code?: unknown }).code;
            this.kmipCall(provider, prop, typeof code === 'string' ? code : 'error');
            throw err;
          }
        };
      },
    });
    this.metered.set(client, wrapped);
    return wrapped;
  }

  /** Tasks by kind and state (a gauge), and a histogram of finished tasks' durations by kind. */
  private async renderTasks(out: string[]): Promise<void> {
    const byState = new Map<string, number>();
    const seconds = new Map<string, Histogram>();
    for (const t of await this.tasks()) {
      bump(byState, `${t.kind}\u0000${t.state}`);
      if (!FINISHED.has(t.state)) continue;
      let h = seconds.get(t.kind);
      if (!h) {
        h = { counts: BUCKETS_SECONDS.map(() => 0), sum: 0, count: 0 };
        seconds.set(t.kind, h);
      }
      const d = Math.max(0, (Date.parse(t.updatedAt) - Date.parse(t.createdAt)) / 1000);
      BUCKETS_SECONDS.forEach((b, i) => {
        if (d <= b) h.counts[i] = (h.counts[i] ?? 0) + 1;
      });
      h.sum += d;
      h.count++;
    }
    out.push('# HELP cryptvisor_center_tasks Tasks in center\'s database, by kind and state.', '# TYPE cryptvisor_center_tasks gauge');
    for (const [k, v] of [...byState].sort(([a], [b]) => a.localeCompare(b)))
      out.push(`cryptvisor_center_tasks{${labels(['kind', 'state'], k)}} ${v}`);
    out.push(
      '# HELP cryptvisor_center_task_duration_seconds Time from creation to end of finished tasks, by kind.',
      '# TYPE cryptvisor_center_task_duration_seconds histogram',
    );
    for (const [kind, h] of [...seconds].sort(([a], [b]) => a.localeCompare(b))) {
      const k = escapeLabel(kind);
      BUCKETS_SECONDS.forEach((b, i) =>
        out.push(`cryptvisor_center_task_duration_seconds_bucket{kind="${k}",le="${b}"} ${h.counts[i] ?? 0}`),
      );
      out.push(
        `cryptvisor_center_task_duration_seconds_bucket{kind="${k}",le="+Inf"} ${h.count}`,
        `cryptvisor_center_task_duration_seconds_sum{kind="${k}"} ${h.sum}`,
        `cryptvisor_center_task_duration_seconds_count{kind="${k}"} ${h.count}`,
      );
    }
  }

  /** The text exposition format. */
  async render(): Promise<string> {
    const out: string[] = [];
    const counter = (
      name: string,
      help: string,
      names: readonly string[],
      m: ReadonlyMap<string, number>,
    ): void => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const [k, v] of [...m].sort(([a], [b]) => a.localeCompare(b)))
        out.push(`${name}{${labels(names, k)}} ${v}`);
    };
    counter(
      'cryptvisor_center_http_requests_total',
      'API requests answered, by method, route template and HTTP status.',
      ['method', 'route', 'status'],
      this.requests,
    );
    counter(
      'cryptvisor_center_kmip_operations_total',
      'KMIP operations center sent to key providers, by provider, operation and result.',
      ['provider', 'operation', 'result'],
      this.kmip,
    );
    counter(
      'cryptvisor_center_heartbeats_total',
      'Host heartbeats, by result (ok, failed, unreachable).',
      ['result'],
      this.heartbeats,
    );
    await this.renderTasks(out);
    out.push(
      '# HELP cryptvisor_center_alarms_active Active alarms, by kind.',
      '# TYPE cryptvisor_center_alarms_active gauge',
    );
    for (const [kind, n] of Object.entries(await this.activeAlarms()).sort(([a], [b]) => a.localeCompare(b)))
      out.push(`cryptvisor_center_alarms_active{kind="${escapeLabel(kind)}"} ${n}`);
    out.push(
      '# HELP cryptvisor_center_uptime_seconds Seconds since center started.',
      '# TYPE cryptvisor_center_uptime_seconds gauge',
      `cryptvisor_center_uptime_seconds ${((Date.now() - this.started) / 1000).toFixed(3)}`,
    );
    return out.join('\n') + '\n';
  }
}

/** The provider manager whose KMIP clients count their operations in `metrics`. */
export class MeteredProviderManager extends ProviderManager {
  constructor(
    private readonly metrics: CenterMetrics,
    ...args: ConstructorParameters<typeof ProviderManager>
  ) {
    super(...args);
  }

  override async client(name?: string): Promise<{ provider: ProviderRecord; client: KmipClient }> {
    const r = await super.client(name);
    return { provider: r.provider, client: this.metrics.meter(r.provider.name, r.client) };
  }
}

/** The host manager whose heartbeats are counted, then handed to `observe` (the alarms). */
export class ObservedHostManager extends HostManager {
  observe: (r: HeartbeatResult) => Promise<void> = async () => undefined;

  constructor(
    private readonly metrics: CenterMetrics,
    ...args: ConstructorParameters<typeof HostManager>
  ) {
    super(...args);
  }

  override async heartbeat(name: string): Promise<HeartbeatResult> {
    const r = await super.heartbeat(name);
    this.metrics.heartbeat(r);
    await this.observe(r).catch(() => undefined);
    return r;
  }
}

/** The route template a request path falls under (`{name}` matches one segment), for labels. */
export function routeLabel(method: string, path: string): string {
  if (path === '/metrics' || path === '/api/docs') return path;
  const parts = path.split('/');
  const hit = ROUTES.find((r) => {
    if (r.method !== method) return false;
    const t = r.path.split('/');
    return t.length === parts.length && t.every((seg, i) => seg.startsWith('{') || seg === parts[i]);
  });
  return hit?.path ?? (path.startsWith('/api/') ? 'unmatched' : 'other');
}

/** Counts each answered request once its response is finished. */
export function countRequests(metrics: CenterMetrics, req: IncomingMessage, res: ServerResponse): void {
  res.once('finish', () => {
    const method = req.method ?? 'GET';
    metrics.request(method, routeLabel(method, new URL(req.url ?? '/', 'https://center').pathname), res.statusCode);
  });
}

/**
 * `GET /metrics`: the Prometheus text format, for a bearer token whose role holds System.Read
 * (every role; Prometheus sends an API token with `authorization: credentials_file`).
 */
export async function serveMetrics(
  svc: CenterServices & { readonly metrics: CenterMetrics },
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  try {
    if (req.method !== 'GET') {
      sendJson(res, 400, { error: { code: 'method_not_allowed', message: `${req.method ?? ''} is not allowed on /metrics` } });
      return;
    }
    const principal = await svc.auth.authenticate(req.headers.authorization);
    await svc.auth.authorize(principal, 'System.Read', 'GET /metrics', '-');
    const text = await svc.metrics.render();
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
    res.end(text);
  } catch (err) {
    const e = toCryptvisorError(err);
    sendJson(res, e.httpStatus, { error: e.toJSON() });
  }
}
