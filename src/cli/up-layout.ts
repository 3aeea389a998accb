/**
 * The directory layout of `cryptvisor up` (DESIGN.md §10, docs/up.md), shared by `up`, `down`,
 * `status` and `demo`: where each service keeps its data, the pid files, endpoints.json,
 * credentials.json, and up.json (ports and first-run progress, kept across runs).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';
import { UpError } from './up-errors.js';

export const KMS = 'kms';
export const CENTER = 'center';
export const hostName = (n: number): string => `host-${n}`;

export interface UpLayout {
  readonly data: string;
  readonly kms: string;
  readonly kmsPki: string;
  readonly center: string;
  readonly hosts: string;
  readonly datastore: string;
  readonly run: string;
  readonly logs: string;
  readonly credentials: string;
  readonly endpoints: string;
  readonly state: string;
  readonly upPid: string;
  host(name: string): string;
  pidFile(service: string): string;
}

/** D: --data, else $CRYPTVISOR_DATA, else ./.cryptvisor (resolved against cwd). */
export function dataDir(
  option: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string {
  return resolve(option ?? (env['CRYPTVISOR_DATA'] || '.cryptvisor'));
}

export function upLayout(data: string): UpLayout {
  const run = join(data, 'run');
  const hosts = join(data, 'hosts');
  return {
    data,
    kms: join(data, 'kms'),
    kmsPki: join(data, 'kms', 'pki'),
    center: join(data, 'center'),
    hosts,
    datastore: join(data, 'datastore'),
    run,
    logs: join(data, 'logs'),
    credentials: join(data, 'credentials.json'),
    endpoints: join(run, 'endpoints.json'),
    state: join(data, 'up.json'),
    upPid: join(run, 'up.pid'),
    host: (name) => join(hosts, name),
    pidFile: (service) => join(run, `${service}.pid`),
  };
}

/** D/run/endpoints.json, exactly in the shape of DESIGN.md §10. */
export interface Endpoints {
  readonly kms: { readonly kmip: string; readonly https: string };
  readonly center: string;
  readonly hosts: Readonly<Record<string, { readonly api: string }>>;
}

/** The ports of every service: picked on the first run, reused on later ones. */
export interface UpPorts {
  readonly kms: number;
  readonly center: number;
  readonly hosts: Readonly<Record<string, number>>;
}

export function endpointsOf(ports: UpPorts): Endpoints {
  const hosts: Record<string, { api: string }> = {};
  for (const [name, port] of Object.entries(ports.hosts)) hosts[name] = { api: `https://127.0.0.1:${port}` };
  return {
    kms: { kmip: `127.0.0.1:${ports.kms}`, https: `https://127.0.0.1:${ports.kms}` },
    center: `https://127.0.0.1:${ports.center}`,
    hosts,
  };
}

/** A host waiting for `host add`: its one-time enrollment token is kept (0600) only until then. */
export interface PendingHost {
  readonly token: string;
  readonly fingerprint: string;
}

/** D/up.json (0600). */
export interface UpState {
  readonly version: 1;
  ports?: UpPorts;
  /** The local KMS is center's default provider, trusted both ways. */
  providerReady?: boolean;
  /** Hosts initialized but not yet added to center. */
  pendingHosts?: Record<string, PendingHost>;
  /** The example VMs of the first run were created (or deliberately skipped). */
  examplesDone?: boolean;
}

export function readUpState(l: UpLayout): UpState {
  if (!existsSync(l.state)) return { version: 1 };
  try {
    const v = JSON.parse(readFileSync(l.state, 'utf8')) as UpState;
    if (v.version !== 1) throw new Error(`version ${String(v.version)}`);
    return v;
  } catch (err) {
    throw new UpError('state_invalid', `${l.state} is not a state file of this version of cryptvisor up`, {
      cause: err,
    });
  }
}

export async function writeUpState(l: UpLayout, s: UpState): Promise<void> {
  await writeFileAtomic(l.state, JSON.stringify(s, null, 2) + '\n', { mode: 0o600 });
}

export function readEndpoints(l: UpLayout): Endpoints | undefined {
  try {
    return JSON.parse(readFileSync(l.endpoints, 'utf8')) as Endpoints;
  } catch {
    return undefined;
  }
}

export function readPid(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

export function alive(pid: number | undefined): pid is number {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * True when pid is a live `cryptvisor` process working on data dir `data` (read from
 * /proc/PID/cmdline), so a stale pid file never gets an unrelated process killed.
 */
export function isOurProcess(pid: number | undefined, data: string): pid is number {
  const argv = cryptvisorArgv(pid);
  return argv !== undefined && argv.some((a) => a === data || a.startsWith(data + '/'));
}

/** True when pid is a live `cryptvisor up` (the supervisor; its data dir may be implicit). */
export function isUpProcess(pid: number | undefined): pid is number {
  return cryptvisorArgv(pid)?.includes('up') ?? false;
}

function cryptvisorArgv(pid: number | undefined): string[] | undefined {
  if (!alive(pid)) return undefined;
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.some((a) => a.endsWith('cryptvisor.js') || a.endsWith('/cryptvisor')) ? argv : undefined;
  } catch {
    return undefined;
  }
}
