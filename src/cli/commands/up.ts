/**
 * `cryptvisor up | down | status` (DESIGN.md §10, docs/up.md): the whole system on localhost. `up`
 * initializes what is missing (up-setup.ts), runs the KMS, center and N agents each as its own
 * child process (supervisor.ts: restarted about a second after it dies, one merged tagged log),
 * and, once every service accepts connections and the first-run setup is done, writes
 * D/run/endpoints.json atomically and prints `ready`. SIGINT/SIGTERM stop everything.
 */
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { CommonError } from '../../common/errors.js';
import { flag, str, type CommandContext, type CommandSpec } from '../command.js';
import { Supervisor } from '../supervisor.js';
import { UpError } from '../up-errors.js';
import {
  CENTER,
  KMS,
  alive,
  dataDir,
  endpointsOf,
  hostName,
  isOurProcess,
  isUpProcess,
  readEndpoints,
  readPid,
  readUpState,
  upLayout,
  writeUpState,
  type UpLayout,
  type UpPorts,
} from '../up-layout.js';
import {
  addHosts,
  choosePorts,
  createExamples,
  initServices,
  loginAdmin,
  portFree,
  readCredentials,
  setUpProvider,
} from '../up-setup.js';

export const CLI = fileURLToPath(new URL('../../../../bin/cryptvisor.js', import.meta.url));
const START_TIMEOUT_MS = 120_000;
const MAX_HOSTS = 64;
const MAX_LOG_BYTES = 64 * 1024 * 1024;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function accepts(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      res(true);
    });
    s.once('error', () => res(false));
  });
}

function layoutOf(ctx: CommandContext): UpLayout {
  return upLayout(dataDir(str(ctx.args, 'data'), ctx.env));
}

function hostCount(ctx: CommandContext): number {
  const text = str(ctx.args, 'hosts');
  if (text === undefined) return 2;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > MAX_HOSTS)
    throw new CommonError('usage', `--hosts must be a whole number from 1 to ${MAX_HOSTS}`);
  return n;
}

/** The first version of `up` (the KMS alone) kept the KMS's port in D/run/ports.json: keep it. */
function firstVersionPorts(l: UpLayout): { kms: number } | undefined {
  try {
    const kms = (JSON.parse(readFileSync(join(l.run, 'ports.json'), 'utf8')) as { kms?: unknown }).kms;
    return typeof kms === 'number' ? { kms } : undefined;
  } catch {
    return undefined;
  }
}

/** Services of this data dir left running by an `up` that was killed: stopped before starting anew. */
async function killStale(l: UpLayout, names: readonly string[]): Promise<number> {
  let killed = 0;
  for (const name of names) {
    const pid = readPid(l.pidFile(name));
    if (isOurProcess(pid, l.data)) {
      process.kill(pid, 'SIGKILL');
      killed++;
      const deadline = Date.now() + 5000;
      while (alive(pid) && Date.now() < deadline) await sleep(50);
    }
    rmSync(l.pidFile(name), { force: true });
  }
  return killed;
}

function serviceNames(ports: UpPorts): string[] {
  return [KMS, CENTER, ...Object.keys(ports.hosts)];
}

/** A port taken by another program would make `up` talk to the wrong server: refuse to start. */
async function assertPortsFree(ports: UpPorts, hosts: number): Promise<void> {
  const wanted: [string, number][] = [
    [KMS, ports.kms],
    [CENTER, ports.center],
    ...Array.from({ length: hosts }, (_, i): [string, number] => [
      hostName(i + 1),
      ports.hosts[hostName(i + 1)] as number,
    ]),
  ];
  for (const [name, port] of wanted) {
    if (!(await portFree(port))) {
      throw new UpError(
        'start_failed',
        `port ${port} of ${name} (127.0.0.1) is in use by another program; stop that program and run up again (center knows the services by these ports)`,
      );
    }
  }
}

async function waitAccepting(ports: UpPorts, hosts: readonly string[], signal: AbortSignal): Promise<void> {
  const all = [ports.kms, ports.center, ...hosts.map((h) => ports.hosts[h] as number)];
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (const port of all) {
    while (!(await accepts(port))) {
      if (signal.aborted) return;
      if (Date.now() > deadline)
        throw new UpError(
          'start_failed',
          `no service started listening on 127.0.0.1:${port} (see the log above)`,
        );
      await sleep(100);
    }
  }
}

async function up(ctx: CommandContext): Promise<unknown> {
  const l = layoutOf(ctx);
  const hosts = hostCount(ctx);
  mkdirSync(l.run, { recursive: true, mode: 0o700 });
  mkdirSync(l.logs, { recursive: true, mode: 0o700 });
  const running = readPid(l.upPid);
  if (running !== process.pid && isUpProcess(running)) {
    throw new UpError(
      'already_up',
      `cryptvisor is already up in ${l.data} (pid ${running}); stop it with: cryptvisor down --data ${l.data}`,
    );
  }
  await writeFileAtomic(l.upPid, `${process.pid}\n`, { mode: 0o644 });
  const logPath = `${l.logs}/up.log`;
  // One generation is kept: a log past MAX_LOG_BYTES becomes up.log.1 when up starts.
  if ((statSync(logPath, { throwIfNoEntry: false })?.size ?? 0) > MAX_LOG_BYTES)
    renameSync(logPath, `${logPath}.1`);
  const logFile = createWriteStream(logPath, { flags: 'a', mode: 0o600 });
  const log = (line: string): void => {
    ctx.stdout.write(line + '\n');
    logFile.write(line + '\n');
  };
  const say = (line: string): void => log(`[up] ${line}`);
  let supervisor: Supervisor | undefined;
  const killChildren = (): void => supervisor?.killAll();
  process.once('exit', killChildren);
  try {
    let state = readUpState(l);
    const ports = await choosePorts(state.ports ?? firstVersionPorts(l), hosts);
    state = { ...state, ports };
    await writeUpState(l, state);
    const stale = await killStale(l, serviceNames(ports));
    if (stale > 0) say(`stopped ${stale} service process(es) left by an earlier run`);
    await assertPortsFree(ports, hosts);
    const firstRun = !existsSync(l.credentials);
    state = await initServices(l, state, hosts, ctx.logger, say);
    await writeUpState(l, state);

    const env = {
      ...ctx.env,
      CRYPTVISOR_LOG_LEVEL: ctx.env['CRYPTVISOR_LOG_LEVEL'] ?? 'info',
      CRYPTVISOR_DATA: l.data,
    };
    supervisor = new Supervisor({ env, log });
    const sup = supervisor;
    const hostNames = Array.from({ length: hosts }, (_, i) => hostName(i + 1));
    sup.add({
      name: KMS,
      pidFile: l.pidFile(KMS),
      argv: [CLI, 'kms', 'serve', '--data', l.kms, '--host', '127.0.0.1', '--port', String(ports.kms)],
    });
    sup.add({
      name: CENTER,
      pidFile: l.pidFile(CENTER),
      argv: [
        CLI,
        'center',
        'serve',
        '--data',
        l.center,
        '--host',
        '127.0.0.1',
        '--port',
        String(ports.center),
      ],
    });
    for (const h of hostNames) {
      sup.add({
        name: h,
        pidFile: l.pidFile(h),
        argv: [
          CLI,
          'agent',
          'serve',
          '--data',
          l.host(h),
          '--host',
          '127.0.0.1',
          '--port',
          String(ports.hosts[h] as number),
        ],
      });
    }
    await waitAccepting(ports, hostNames, ctx.signal);

    if (!ctx.signal.aborted) {
      const admin = await loginAdmin(l);
      if (!state.providerReady) {
        await setUpProvider(l, admin, ports.kms);
        state = { ...state, providerReady: true };
        await writeUpState(l, state);
        say(`the local KMS (127.0.0.1:${ports.kms}) is center's default key provider, trusted both ways`);
      }
      state = await addHosts(l, state, admin, say);
      await writeUpState(l, state);
      if (!state.examplesDone) {
        const done = flag(ctx.args, 'no-examples') || (await createExamples(l, CLI, hosts, env, say));
        state = { ...state, examplesDone: done };
        await writeUpState(l, state);
      }
      const endpoints = endpointsOf({
        ...ports,
        hosts: Object.fromEntries(hostNames.map((h) => [h, ports.hosts[h] as number])),
      });
      await writeFileAtomic(l.endpoints, JSON.stringify(endpoints, null, 2) + '\n', { mode: 0o644 });
      const creds = readCredentials(l);
      say(`center:      ${creds.url}`);
      if (firstRun) {
        say(`user:        ${creds.user}`);
        say(`password:    ${creds.password}`);
      }
      say(`credentials: ${l.credentials} (url, user, password, ca)`);
      say(`commands:    cryptvisor vm list --data ${l.data}   (or export CRYPTVISOR_DATA=${l.data})`);
      say(`stop with Ctrl-C or: cryptvisor down --data ${l.data}`);
      ctx.stdout.write('ready\n');
      logFile.write('ready\n');
    }
    await new Promise<void>((r) => {
      if (ctx.signal.aborted) r();
      else ctx.signal.addEventListener('abort', () => r(), { once: true });
    });
    say('stopping');
    await sup.stop([...hostNames, CENTER, KMS]);
    say('stopped');
    return undefined;
  } catch (err) {
    if (supervisor) await supervisor.stop();
    throw err;
  } finally {
    process.removeListener('exit', killChildren);
    rmSync(l.endpoints, { force: true });
    if (readPid(l.upPid) === process.pid) rmSync(l.upPid, { force: true });
    await new Promise<void>((r) => logFile.end(() => r()));
  }
}

async function down(ctx: CommandContext): Promise<unknown> {
  const l = layoutOf(ctx);
  const pid = readPid(l.upPid);
  if (isUpProcess(pid)) {
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 30_000;
    while (alive(pid) && Date.now() < deadline) await sleep(100);
    if (alive(pid)) throw new UpError('start_failed', `cryptvisor up (pid ${pid}) did not stop within 30 s`);
    return { stopped: true, message: `stopped cryptvisor in ${l.data}` };
  }
  const state = readUpState(l);
  const stale = state.ports ? await killStale(l, serviceNames(state.ports)) : 0;
  rmSync(l.upPid, { force: true });
  rmSync(l.endpoints, { force: true });
  if (stale > 0)
    return {
      stopped: true,
      message: `cryptvisor up was not running in ${l.data}; stopped ${stale} service process(es) it left`,
    };
  return { stopped: false, message: `cryptvisor is not up in ${l.data}` };
}

interface ServiceStatus {
  readonly name: string;
  readonly pid: number | null;
  readonly alive: boolean;
  readonly endpoint: string | null;
  readonly accepting: boolean;
}

async function status(ctx: CommandContext): Promise<unknown> {
  const l = layoutOf(ctx);
  const upPid = readPid(l.upPid);
  const upAlive = isUpProcess(upPid);
  const state = existsSync(l.state) ? readUpState(l) : { version: 1 as const };
  const endpoints = readEndpoints(l) ?? (state.ports ? endpointsOf(state.ports) : undefined);
  const services: ServiceStatus[] = [];
  const entry = async (
    name: string,
    endpoint: string | undefined,
    port: number | undefined,
  ): Promise<void> => {
    const pid = readPid(l.pidFile(name));
    const live = isOurProcess(pid, l.data);
    services.push({
      name,
      pid: live ? pid : null,
      alive: live,
      endpoint: endpoint ?? null,
      accepting: port !== undefined ? await accepts(port) : false,
    });
  };
  const portOf = (url: string | undefined): number | undefined =>
    url ? Number(url.split(':').pop()) : undefined;
  if (endpoints) {
    await entry(KMS, endpoints.kms.kmip, portOf(endpoints.kms.kmip));
    await entry(CENTER, endpoints.center, portOf(endpoints.center));
    for (const [h, e] of Object.entries(endpoints.hosts)) await entry(h, e.api, portOf(e.api));
  }
  return {
    data: l.data,
    up: upAlive,
    pid: upAlive ? upPid : null,
    ready: upAlive && existsSync(l.endpoints),
    services,
  };
}

const DATA = {
  name: 'data',
  type: 'string',
  valueName: 'D',
  help: 'data directory (default $CRYPTVISOR_DATA, else ./.cryptvisor)',
} as const;

export const UP_COMMANDS: readonly CommandSpec[] = [
  {
    path: ['up'],
    summary: 'run the whole system on localhost (KMS, center, N host agents) until Ctrl-C',
    options: [
      DATA,
      { name: 'hosts', type: 'string', valueName: 'N', help: 'number of hosts (default 2)' },
      { name: 'no-examples', type: 'boolean', help: 'do not create the example VMs on the first run' },
    ],
    run: up,
  },
  {
    path: ['down'],
    summary: 'stop a running `cryptvisor up`',
    options: [DATA],
    run: down,
    human: (r) => (r as { message: string }).message,
  },
  {
    path: ['status'],
    summary: 'show whether `cryptvisor up` and each of its services are running',
    options: [DATA],
    run: status,
    human(r) {
      const s = r as {
        data: string;
        up: boolean;
        pid: number | null;
        ready: boolean;
        services: ServiceStatus[];
      };
      const rows = s.services.map((v) =>
        `${v.name.padEnd(8)} ${v.alive ? `pid ${v.pid}`.padEnd(11) : 'not running'} ${(v.endpoint ?? '').padEnd(26)} ${v.accepting ? 'accepting' : ''}`.trimEnd(),
      );
      return [
        `data: ${s.data}`,
        `up:   ${s.up ? `running (pid ${s.pid})${s.ready ? ', ready' : ', starting'}` : 'not running'}`,
        ...rows,
      ].join('\n');
    },
  },
];
