/**
 * `cryptvisor up | down | status` (DESIGN.md §10), first version: the KMS alone. `up` inits the
 * KMS in D/kms on the first run, then runs `kms serve` as a child process, restarts it about a
 * second after it dies, records pids in D/run, writes D/run/endpoints.json atomically once the
 * KMS accepts connections, prints `ready`, and stops cleanly on Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CommonError } from '../../common/errors.js';
import { initKms } from '../../kms/init.js';
import { str, type CommandContext, type CommandSpec } from '../command.js';

const PREFERRED_KMS_PORT = 5696;
const RESTART_DELAY_MS = 1000;
const CLI = fileURLToPath(new URL('../../../../bin/cryptvisor.js', import.meta.url));

interface Layout {
  readonly data: string;
  readonly kms: string;
  readonly run: string;
  readonly upPid: string;
  readonly kmsPid: string;
  readonly endpoints: string;
  readonly ports: string;
}

function layout(ctx: CommandContext): Layout {
  const data = resolve(str(ctx.args, 'data') ?? ctx.env['CRYPTVISOR_DATA'] ?? '.cryptvisor');
  const run = join(data, 'run');
  return {
    data,
    kms: join(data, 'kms'),
    run,
    upPid: join(run, 'up.pid'),
    kmsPid: join(run, 'kms.pid'),
    endpoints: join(run, 'endpoints.json'),
    ports: join(run, 'ports.json'),
  };
}

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o644 });
  renameSync(tmp, file);
}

function readPid(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}

/** The KMS port: the one of earlier runs, else 5696 if free, else any free port. */
async function kmsPort(l: Layout): Promise<number> {
  if (existsSync(l.ports)) {
    const saved = (JSON.parse(readFileSync(l.ports, 'utf8')) as { kms?: number }).kms;
    if (typeof saved === 'number') return saved;
  }
  const port = (await portFree(PREFERRED_KMS_PORT)) ? PREFERRED_KMS_PORT : await freePort();
  writeAtomic(l.ports, JSON.stringify({ kms: port }) + '\n');
  return port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      res(true);
    });
    s.once('error', () => res(false));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function up(ctx: CommandContext): Promise<unknown> {
  const l = layout(ctx);
  mkdirSync(l.run, { recursive: true, mode: 0o700 });
  const running = readPid(l.upPid);
  if (alive(running) && running !== process.pid) {
    throw new CommonError('file_exists', `cryptvisor is already up in ${l.data} (pid ${running}); stop it with: cryptvisor down --data ${l.data}`);
  }
  writeAtomic(l.upPid, `${process.pid}\n`);
  const say = (line: string): void => void ctx.stdout.write(line + '\n');
  try {
    if (!existsSync(join(l.kms, 'root.key'))) {
      say(`initializing the KMS in ${l.kms}`);
      await initKms({ dataDir: l.kms, sans: ['localhost', '127.0.0.1'], logger: ctx.logger });
    }
    const port = await kmsPort(l);
    let child: ChildProcess | undefined;
    let stopping = false;
    const start = (): void => {
      const c = spawn(process.execPath, [CLI, 'kms', 'serve', '--data', l.kms, '--host', '127.0.0.1', '--port', String(port)], {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { ...ctx.env },
      });
      child = c;
      if (c.pid !== undefined) writeAtomic(l.kmsPid, `${c.pid}\n`);
      c.once('exit', (code, signal) => {
        if (stopping) return;
        ctx.logger.warn({ code, signal }, 'the KMS exited; restarting');
        ctx.stderr.write(`kms exited (${signal ?? code}); restarting in 1 s\n`);
        setTimeout(() => {
          if (!stopping) start();
        }, RESTART_DELAY_MS);
      });
    };
    start();
    const deadline = Date.now() + 60_000;
    while (!(await accepts(port))) {
      if (ctx.signal.aborted) break;
      if (Date.now() > deadline) throw new CommonError('internal', `the KMS did not start listening on port ${port}`);
      await sleep(100);
    }
    if (!ctx.signal.aborted) {
      writeAtomic(l.endpoints, JSON.stringify({ kms: { kmip: `127.0.0.1:${port}`, https: `https://127.0.0.1:${port}` } }, null, 2) + '\n');
      say(`KMS: KMIP on 127.0.0.1:${port}, HTTPS on https://127.0.0.1:${port}`);
      say(`admin client certificate: ${join(l.kms, 'pki', 'admin.pem')} (key ${join(l.kms, 'pki', 'admin.key')}, CA ${join(l.kms, 'pki', 'ca.pem')})`);
      say('ready');
    }
    await new Promise<void>((r) => {
      if (ctx.signal.aborted) r();
      else ctx.signal.addEventListener('abort', () => r(), { once: true });
    });
    stopping = true;
    await stopChild(child);
    say('stopped');
    return undefined;
  } finally {
    rmSync(l.kmsPid, { force: true });
    rmSync(l.endpoints, { force: true });
    if (readPid(l.upPid) === process.pid) rmSync(l.upPid, { force: true });
  }
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function down(ctx: CommandContext): Promise<unknown> {
  const l = layout(ctx);
  const pid = readPid(l.upPid);
  if (!alive(pid)) return { stopped: false, message: `cryptvisor is not up in ${l.data}` };
  process.kill(pid as number, 'SIGTERM');
  const deadline = Date.now() + 20_000;
  while (alive(pid) && Date.now() < deadline) await sleep(100);
  if (alive(pid)) throw new CommonError('internal', `cryptvisor (pid ${pid}) did not stop`);
  return { stopped: true, message: `stopped cryptvisor in ${l.data}` };
}

async function status(ctx: CommandContext): Promise<unknown> {
  const l = layout(ctx);
  const upPid = readPid(l.upPid);
  const kmsPid = readPid(l.kmsPid);
  const endpoints = existsSync(l.endpoints) ? (JSON.parse(readFileSync(l.endpoints, 'utf8')) as { kms?: { kmip: string } }) : undefined;
  const port = endpoints?.kms ? Number(endpoints.kms.kmip.split(':').pop()) : undefined;
  return {
    data: l.data,
    up: alive(upPid),
    upPid: alive(upPid) ? upPid : null,
    kms: { pid: alive(kmsPid) ? kmsPid : null, accepting: port !== undefined ? await accepts(port) : false, endpoints: endpoints?.kms ?? null },
  };
}

const DATA = { name: 'data', type: 'string', valueName: 'D', help: 'data directory (default $CRYPTVISOR_DATA, else ./.cryptvisor)' } as const;

export const UP_COMMANDS: readonly CommandSpec[] = [
  { path: ['up'], summary: 'run the system on localhost (for now: the KMS) until Ctrl-C', options: [DATA], run: up },
  {
    path: ['down'],
    summary: 'stop a running `cryptvisor up`',
    options: [DATA],
    run: down,
    human: (r) => (r as { message: string }).message,
  },
  {
    path: ['status'],
    summary: 'show whether `cryptvisor up` and its services are running',
    options: [DATA],
    run: status,
    human(r) {
      const s = r as { data: string; up: boolean; upPid: number | null; kms: { pid: number | null; accepting: boolean; endpoints: { kmip: string } | null } };
      return [
        `data: ${s.data}`,
        `up:   ${s.up ? `running (pid ${s.upPid})` : 'not running'}`,
        `kms:  ${s.kms.pid ? `pid ${s.kms.pid}` : 'no process'}${s.kms.endpoints ? `, ${s.kms.endpoints.kmip}` : ''}${s.kms.accepting ? ', accepting' : ''}`,
      ].join('\n');
    },
  },
];
