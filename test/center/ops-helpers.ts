/** Helpers of the operations tests (alarms, key status, metrics, failover, providers). */
import { request } from 'node:https';
import { connect } from 'node:net';
import type { CenterClient } from '../../src/center/index.js';
import { signCsr } from '../../src/common/pki.js';
import type { TestStack } from './harness.js';

interface TaskLike {
  readonly id: string;
  readonly state: string;
  readonly result: unknown;
  readonly error: { code: string; message: string } | null;
}

/** Waits for a task started by a 202 route and returns its result; throws with its error. */
export async function finishTask<T>(client: CenterClient, started: unknown): Promise<T> {
  const t = started as Partial<TaskLike>;
  if (typeof t.id !== 'string' || !t.id.startsWith('task-')) return started as T;
  for (let i = 0; i < 60; i++) {
    const r = await client.call<TaskLike>('GET', `/api/v1/tasks/${t.id}/wait?timeout=10`);
    if (r.state === 'succeeded') return r.result as T;
    if (r.state === 'failed' || r.state === 'cancelled')
      throw Object.assign(new Error(r.error?.message ?? r.state), { code: r.error?.code ?? r.state });
  }
  throw new Error(`task ${t.id} did not finish`);
}

/** Creates a VM (encrypted under the built-in policy unless plain) and returns it (DESIGN §10 shape). */
export async function createVm(
  client: CenterClient,
  name: string,
  host: string,
  opts: { plain?: boolean; disk?: number } = {},
): Promise<{ name: string; keyId: string | null; keyProviderId: string | null; cryptoState: string }> {
  const started = await client.call('POST', '/api/v1/vms', {
    name,
    host,
    disks: String(opts.disk ?? 1048576),
    ...(opts.plain ? {} : { policy: 'VM Encryption Policy' }),
  });
  await finishTask(client, started);
  return client.call('GET', `/api/v1/vms/${encodeURIComponent(name)}`);
}

/** GET /metrics with a bearer token (or none): status and text. */
export function fetchMetrics(url: string, ca: string, token?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL('/metrics', url);
    const req = request(
      {
        host: u.hostname,
        port: Number(u.port),
        path: u.pathname,
        method: 'GET',
        ca,
        headers: token ? { authorization: `Bearer ${token}` } : {},
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** The value of one sample line (`name{labels} value`) in a Prometheus text, or 0 when absent. */
export function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

/**
 * Adds provider `name` (servers `host:port,...`, their CA), has center's CSR signed by the CA in
 * caDir as a client certificate, and makes it the default provider.
 */
export async function addTrustedProvider(
  admin: CenterClient,
  name: string,
  servers: string,
  caPem: string,
  caDir: string,
): Promise<void> {
  await admin.call('POST', '/api/v1/providers', { name, servers, ca: caPem });
  const { csr } = await admin.call<{ csr: string }>('POST', `/api/v1/providers/${name}/csr`);
  await admin.call('PUT', `/api/v1/providers/${name}/certificate`, {
    cert: await signCsr(caDir, csr, { kind: 'client' }),
  });
  await admin.call('PUT', `/api/v1/providers/${name}/default`);
}

/** Enrolls the stack's agent as `host-1`. */
export async function enrollHost(s: TestStack): Promise<void> {
  await s.admin.call('POST', '/api/v1/hosts', {
    name: 'host-1',
    url: s.agent.url,
    token: s.agentInit.enrollmentToken,
    fingerprint: s.agentInit.fingerprint,
  });
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
