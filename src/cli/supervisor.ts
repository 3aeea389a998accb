/**
 * Runs services as child processes (`cryptvisor kms serve …`), one process each, so the pid in
 * D/run/NAME.pid is the process holding that service's listening sockets. A child that dies is
 * started again RESTART_DELAY_MS later; its output goes through one merged, tagged log.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { LineSplitter, renderLogLine } from './service-log.js';

export const RESTART_DELAY_MS = 1000;
const STOP_GRACE_MS = 10_000;

export interface ServiceSpec {
  readonly name: string;
  /** Arguments after `node`. */
  readonly argv: readonly string[];
  readonly pidFile: string;
}

export interface SupervisorOptions {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Receives each rendered log line (without line ending). */
  readonly log: (line: string) => void;
}

interface Running {
  readonly spec: ServiceSpec;
  child: ChildProcess | undefined;
  restarts: number;
  timer: NodeJS.Timeout | undefined;
}

export class Supervisor {
  readonly #services = new Map<string, Running>();
  #stopping = false;

  constructor(private readonly opts: SupervisorOptions) {}

  /** Starts a service; it is restarted after every exit until stop(). */
  add(spec: ServiceSpec): void {
    const r: Running = { spec, child: undefined, restarts: 0, timer: undefined };
    this.#services.set(spec.name, r);
    this.#start(r);
  }

  pid(name: string): number | undefined {
    return this.#services.get(name)?.child?.pid;
  }

  restarts(name: string): number {
    return this.#services.get(name)?.restarts ?? 0;
  }

  #start(r: Running): void {
    const { spec } = r;
    const child = spawn(process.execPath, [...spec.argv], {
      // Its own process group: a terminal's Ctrl-C reaches only `up`, which stops the children in order.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...this.opts.env },
    });
    r.child = child;
    for (const stream of [child.stdout, child.stderr]) {
      const lines = new LineSplitter();
      stream.on('data', (c: Buffer) =>
        lines.push(c).forEach((l) => this.opts.log(renderLogLine(spec.name, l))),
      );
      stream.on('end', () => lines.flush().forEach((l) => this.opts.log(renderLogLine(spec.name, l))));
    }
    child.once('error', (err) =>
      this.opts.log(renderLogLine('up', `cannot start ${spec.name}: ${err.message}`)),
    );
    if (child.pid !== undefined) {
      writeFile(spec.pidFile, `${child.pid}\n`, { mode: 0o644 }).catch((err: unknown) =>
        this.opts.log(renderLogLine('up', `cannot write ${spec.pidFile}: ${(err as Error).message}`)),
      );
    }
    child.once('exit', (code, signal) => {
      if (this.#stopping) return;
      this.opts.log(
        renderLogLine(
          'up',
          `${spec.name} (pid ${child.pid}) exited (${signal ?? `code ${code}`}); restarting in 1 s`,
        ),
      );
      r.timer = setTimeout(() => {
        r.timer = undefined;
        if (this.#stopping) return;
        r.restarts++;
        this.#start(r);
      }, RESTART_DELAY_MS);
    });
  }

  /** Stops every service (SIGTERM, then SIGKILL after a grace period) in the given order, and removes the pid files. */
  async stop(order: readonly string[] = [...this.#services.keys()]): Promise<void> {
    this.#stopping = true;
    for (const r of this.#services.values()) if (r.timer) clearTimeout(r.timer);
    for (const name of order) {
      const r = this.#services.get(name);
      if (!r) continue;
      await stopChild(r.child);
      rmSync(r.spec.pidFile, { force: true });
    }
  }

  /** Kills every child at once, synchronously (for process 'exit'). */
  killAll(): void {
    for (const r of this.#services.values()) {
      const c = r.child;
      if (c && c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }
  }
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}
