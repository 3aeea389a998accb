/**
 * What `cryptvisor up` does once, on the first run (each step is recorded in D/up.json, so a run
 * interrupted half-way finishes the remaining steps on the next one): init the KMS, center and
 * the agents, pick ports, write D/credentials.json; then, with every service running, make the
 * local KMS center's default key provider (trust both ways), add the hosts, and create the
 * example VMs.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { initAgent } from '../agent/index.js';
import { initCenter, passwordLogin, type CenterClient } from '../center/index.js';
import { writeFileAtomic } from '../common/atomic-write.js';
import { CryptvisorError } from '../common/errors.js';
import type { Logger } from '../common/logging.js';
import { signCsr } from '../common/pki.js';
import { initKms } from '../kms/init.js';
import { UpError } from './up-errors.js';
import { hostName, writeUpState, type UpLayout, type UpPorts, type UpState } from './up-layout.js';

export const PREFERRED_KMS_PORT = 5696;
/** center's name for the local KMS. */
export const LOCAL_PROVIDER = 'local-kms';
/** center checks each host this often under `up`, so a restarted agent gets its keys within seconds. */
export const UP_HEARTBEAT_SECONDS = 1;
export const BUILTIN_POLICY_NAME = 'VM Encryption Policy';
/** The example VMs of the first run (64 MiB disks): two encrypted, one plain. */
export const EXAMPLE_VMS: readonly { name: string; host: number; policy: string | null }[] = [
  { name: 'example-1', host: 1, policy: BUILTIN_POLICY_NAME },
  { name: 'example-2', host: 2, policy: BUILTIN_POLICY_NAME },
  { name: 'example-3', host: 1, policy: null },
];
const LOCAL_SANS = ['localhost', '127.0.0.1'];

export interface Credentials {
  readonly url: string;
  readonly user: string;
  readonly password: string;
  readonly ca: string;
}

export function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });
}

function freePort(taken: ReadonlySet<number>): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => (taken.has(p) ? freePort(taken).then(res, rej) : res(p)));
    });
  });
}

/** The saved ports, plus new ones for services that have none yet (the KMS prefers 5696). */
export async function choosePorts(saved: Partial<UpPorts> | undefined, hosts: number): Promise<UpPorts> {
  const taken = new Set<number>(
    [saved?.kms, saved?.center, ...Object.values(saved?.hosts ?? {})].filter((p) => p !== undefined),
  );
  const pick = async (): Promise<number> => {
    const p = await freePort(taken);
    taken.add(p);
    return p;
  };
  let kms = saved?.kms;
  if (kms === undefined) {
    kms = (await portFree(PREFERRED_KMS_PORT)) ? PREFERRED_KMS_PORT : await pick();
    taken.add(kms);
  }
  const center = saved?.center ?? (await pick());
  const hostPorts: Record<string, number> = { ...(saved?.hosts ?? {}) };
  for (let n = 1; n <= hosts; n++) hostPorts[hostName(n)] ??= await pick();
  return { kms, center, hosts: hostPorts };
}

/** Initializes every service that has no data dir yet; returns the updated state. */
export async function initServices(
  l: UpLayout,
  state: UpState,
  hosts: number,
  logger: Logger,
  say: (line: string) => void,
): Promise<UpState> {
  await mkdir(l.datastore, { recursive: true, mode: 0o700 });
  await mkdir(l.hosts, { recursive: true, mode: 0o700 });
  if (!existsSync(join(l.kms, 'root.key'))) {
    say(`initializing the KMS in ${l.kms}`);
    await initKms({ dataDir: l.kms, sans: LOCAL_SANS, logger });
  }
  const ports = state.ports as UpPorts;
  if (!existsSync(join(l.center, 'center.json'))) {
    say(`initializing center in ${l.center}`);
    const r = await initCenter(l.center, { port: ports.center, sans: LOCAL_SANS });
    const creds: Credentials = {
      url: `https://127.0.0.1:${ports.center}`,
      user: r.user,
      password: r.password as string,
      ca: r.ca,
    };
    await writeFileAtomic(l.credentials, JSON.stringify(creds, null, 2) + '\n', { mode: 0o600 });
  }
  await setHeartbeat(l.center);
  const pending = { ...(state.pendingHosts ?? {}) };
  for (let n = 1; n <= hosts; n++) {
    const name = hostName(n);
    if (existsSync(join(l.host(name), 'agent.json'))) continue;
    say(`initializing ${name} in ${l.host(name)}`);
    const r = await initAgent(l.host(name), l.datastore, {
      sans: LOCAL_SANS,
      port: ports.hosts[name] as number,
    });
    pending[name] = { token: r.enrollmentToken, fingerprint: r.fingerprint };
    // Saved at once: the token is shown only once, and `host add` needs it.
    await writeUpState(l, { ...state, pendingHosts: pending });
  }
  return { ...state, pendingHosts: pending };
}

/** center.json gets heartbeatSeconds (unless the operator set it), so restarted agents unlock fast. */
async function setHeartbeat(centerDir: string): Promise<void> {
  const file = join(centerDir, 'center.json');
  const cfg = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  if (cfg['heartbeatSeconds'] !== undefined) return;
  await writeFileAtomic(
    file,
    JSON.stringify({ ...cfg, heartbeatSeconds: UP_HEARTBEAT_SECONDS }, null, 2) + '\n',
    { mode: 0o600 },
  );
}

export function readCredentials(l: UpLayout): Credentials {
  try {
    return JSON.parse(readFileSync(l.credentials, 'utf8')) as Credentials;
  } catch (err) {
    throw new UpError('state_invalid', `cannot read ${l.credentials}`, { cause: err });
  }
}

export async function loginAdmin(l: UpLayout): Promise<CenterClient> {
  const c = readCredentials(l);
  return (await passwordLogin(c.url, { ca: await readFile(c.ca, 'utf8') }, c.user, c.password)).client;
}

async function exists(client: CenterClient, path: string): Promise<boolean> {
  try {
    await client.call('GET', path);
    return true;
  } catch (err) {
    if (err instanceof CryptvisorError && err.kind === 'not_found') return false;
    throw err;
  }
}

/** The local KMS as center's default provider, trusted both ways (center's CSR signed by the KMS CA). */
export async function setUpProvider(l: UpLayout, client: CenterClient, kmsPort: number): Promise<void> {
  const path = `/api/v1/providers/${LOCAL_PROVIDER}`;
  if (!(await exists(client, path))) {
    await client.call('POST', '/api/v1/providers', {
      name: LOCAL_PROVIDER,
      servers: `127.0.0.1:${kmsPort}`,
      ca: await readFile(join(l.kmsPki, 'ca.pem'), 'utf8'),
    });
  }
  const { csr } = await client.call<{ csr: string }>('POST', `${path}/csr`);
  await client.call('PUT', `${path}/certificate`, { cert: await signCsr(l.kmsPki, csr, { kind: 'client' }) });
  await client.call('PUT', `${path}/default`);
}

/** Adds each pending host to center (`host add` with its token, its certificate pinned). */
export async function addHosts(
  l: UpLayout,
  state: UpState,
  client: CenterClient,
  say: (line: string) => void,
): Promise<UpState> {
  const pending = { ...(state.pendingHosts ?? {}) };
  const ports = state.ports as UpPorts;
  for (const [name, p] of Object.entries(pending)) {
    if (!(await exists(client, `/api/v1/hosts/${name}`))) {
      await client.call('POST', '/api/v1/hosts', {
        name,
        url: `https://127.0.0.1:${ports.hosts[name] as number}`,
        token: p.token,
        fingerprint: p.fingerprint,
      });
      say(`added ${name} to center`);
    }
    delete pending[name];
    await writeUpState(l, { ...state, pendingHosts: pending });
  }
  return { ...state, pendingHosts: pending };
}

export interface CliRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `cryptvisor ARGS` as a child process (the CLI contract of DESIGN §10 is what `up` and `demo` drive). */
export function runCryptvisor(
  cli: string,
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...env },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout: out, stderr: err }));
  });
}

/** The message of a failed CLI run (its --json error), never its internal stack. */
export function cliError(r: CliRun): { code: string; message: string } {
  try {
    const e = (JSON.parse(r.stdout) as { error?: { code: string; message: string } }).error;
    if (e) return e;
  } catch {
    // not JSON: fall through
  }
  return { code: 'failed', message: `exit status ${r.status ?? 'none'}` };
}

/**
 * The example VMs of the first run, through `cryptvisor vm create`. A failure is reported, not
 * fatal; returns true when every example exists (then later runs do not try again).
 */
export async function createExamples(
  l: UpLayout,
  cli: string,
  hosts: number,
  env: Readonly<Record<string, string | undefined>>,
  say: (line: string) => void,
): Promise<boolean> {
  // Created side by side: each is a `vm create` process and a center task.
  const results = await Promise.all(
    EXAMPLE_VMS.map(async (vm) => {
      const host = hostName(Math.min(vm.host, hosts));
      const r = await runCryptvisor(
        cli,
        [
          'vm',
          'create',
          vm.name,
          '--host',
          host,
          '--disk',
          '64M',
          ...(vm.policy ? ['--policy', vm.policy] : ['--plain']),
          '--data',
          l.data,
          '--json',
        ],
        env,
      );
      return { vm, host, r };
    }),
  );
  let ok = true;
  for (const { vm, host, r } of results) {
    if (r.status === 0) {
      say(
        `created example VM ${vm.name} on ${host} (${vm.policy ? `encrypted by "${vm.policy}"` : 'plain'})`,
      );
      continue;
    }
    const e = cliError(r);
    if (/exist/.test(e.code)) continue;
    ok = false;
    say(`could not create example VM ${vm.name}: ${e.message} (${e.code}); up tries again on its next run`);
  }
  return ok;
}
