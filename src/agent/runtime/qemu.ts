/**
 * The VM runtime: a QEMU process on the VM's NBD exports (docs/agent.md, "VM runtime").
 *
 * Direct kernel boot, virtio disks over NBD Unix sockets, the serial console appended to a
 * plaintext log in the VM folder, the QMP monitor on a socket in the agent's private socket
 * directory; KVM when /dev/kvm is usable, TCG otherwise. Guest RAM is anonymous memory of the
 * QEMU process (no memory-backend-file), so it is never a file on the datastore.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants as fsConstants } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentError } from '../errors.js';
import type { VmRuntimeSpec } from '../datastore.js';
import { QmpClient } from './qmp.js';

export const QEMU_BINARY = 'qemu-system-x86_64';
const QUIT_TIMEOUT_MS = 5_000;

let qemuPresent: boolean | undefined;

/** True when qemu-system-x86_64 is on PATH (checked once). */
export function qemuInstalled(): boolean {
  qemuPresent ??= spawnSync(QEMU_BINARY, ['--version'], { stdio: 'ignore' }).status === 0;
  return qemuPresent;
}

function kvmUsable(): boolean {
  try {
    accessSync('/dev/kvm', fsConstants.R_OK | fsConstants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export interface QemuStartOptions {
  readonly name: string;
  readonly spec: VmRuntimeSpec;
  /** NBD Unix sockets of the disks in order (the first is /dev/vda), then the NVRAM's. */
  readonly drives: readonly string[];
  /** The VM's private socket directory (0700). */
  readonly sockDir: string;
  /** The plaintext console log (the guest's serial port). */
  readonly consoleLog: string;
  /** Start paused, waiting for a migration stream on this Unix socket (resume). */
  readonly incoming?: string;
}

/** The QEMU argument list (exported for the unit test). */
export function qemuArgs(o: QemuStartOptions, qmpPath: string, kvm: boolean): string[] {
  const { spec } = o;
  if (!spec.kernel) throw new AgentError('invalid_request', `VM ${o.name}: the QEMU runtime needs runtime.kernel (direct kernel boot)`);
  const args = [
    '-name', o.name,
    '-machine', 'q35',
    '-accel', kvm ? 'kvm' : 'tcg',
    '-m', String(spec.memoryMiB),
    '-smp', String(spec.cpus),
    '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
    '-chardev', `file,id=console,path=${o.consoleLog},append=on`,
    '-serial', 'chardev:console',
    '-qmp', `unix:${qmpPath},server=on,wait=off`,
    '-kernel', spec.kernel,
  ];
  if (spec.initrd) args.push('-initrd', spec.initrd);
  args.push('-append', spec.append ?? 'console=ttyS0');
  o.drives.forEach((sock, i) => {
    args.push('-blockdev', `driver=nbd,node-name=nbd${i},server.type=unix,server.path=${sock},export=`);
    args.push('-device', `virtio-blk-pci,drive=nbd${i}`);
  });
  if (o.incoming) args.push('-incoming', `unix:${o.incoming}`);
  return args;
}

export class QemuVm {
  readonly #child: ChildProcess;
  readonly #qmp: QmpClient;
  readonly #sockDir: string;
  readonly exited: Promise<number | null>;
  readonly #stderr: () => string;

  private constructor(child: ChildProcess, qmp: QmpClient, sockDir: string, exited: Promise<number | null>, stderr: () => string) {
    this.#child = child;
    this.#qmp = qmp;
    this.#sockDir = sockDir;
    this.exited = exited;
    this.#stderr = stderr;
  }

  static async start(o: QemuStartOptions): Promise<QemuVm> {
    if (!qemuInstalled()) throw new AgentError('not_supported', `VM ${o.name} asks for the QEMU runtime but ${QEMU_BINARY} is not installed`);
    const qmpPath = join(o.sockDir, 'qmp.sock');
    await rm(qmpPath, { force: true });
    const args = qemuArgs(o, qmpPath, kvmUsable());
    const child = spawn(QEMU_BINARY, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => (stderr = (stderr + d).slice(-4096)));
    const exited = new Promise<number | null>((resolve) => {
      child.once('exit', (code) => resolve(code));
      child.once('error', () => resolve(null));
    });
    let qmp: QmpClient;
    try {
      qmp = await Promise.race([
        QmpClient.connect(qmpPath),
        exited.then((code) => {
          throw new AgentError('vm_runtime_failed', `QEMU exited at start (status ${code}): ${stderr.trim().split('\n').slice(-3).join(' ')}`);
        }),
      ]);
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
    return new QemuVm(child, qmp, o.sockDir, exited, () => stderr);
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** QEMU's last error lines (for the VM log; never key material: QEMU holds none). */
  get lastError(): string {
    return this.#stderr();
  }

  execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    return this.#qmp.execute(command, args);
  }

  async status(): Promise<string> {
    const r = (await this.execute('query-status')) as { status?: string };
    return r.status ?? 'unknown';
  }

  /**
   * Live-migrates the VM's memory and device state into `sink`, through a Unix socket in the
   * private socket directory (never a file). The VM is left paused (QEMU's postmigrate state).
   */
  async migrateOut(sink: (chunk: Buffer) => Promise<void>): Promise<void> {
    const path = join(this.#sockDir, 'migrate.sock');
    await rm(path, { force: true });
    const server: Server = createServer();
    let received: Promise<void>;
    try {
      const accepted = new Promise<Socket>((resolve, reject) => {
        server.once('connection', resolve);
        server.once('error', reject);
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(path, () => resolve());
      });
      received = accepted.then((sock) => pumpInto(sock, sink));
      await this.execute('migrate', { uri: `unix:${path}` });
      await received;
    } finally {
      server.close();
      await rm(path, { force: true });
    }
    await this.#waitMigration();
  }

  async #waitMigration(): Promise<void> {
    for (;;) {
      const r = (await this.execute('query-migrate')) as { status?: string; 'error-desc'?: string };
      if (r.status === 'completed') return;
      if (r.status === 'failed' || r.status === 'cancelled') throw new AgentError('vm_runtime_failed', `migration ${r.status}: ${r['error-desc'] ?? ''}`);
      await new Promise((res) => setTimeout(res, 20));
    }
  }

  /** Feeds a saved state to a QEMU started with `incoming`, then waits until the VM runs. */
  async migrateIn(incoming: string, source: AsyncIterable<Buffer>): Promise<void> {
    const sock = await connectRetry(incoming);
    try {
      for await (const chunk of source) {
        if (!sock.write(chunk)) await once(sock, 'drain');
        chunk.fill(0);
      }
      await new Promise<void>((resolve) => sock.end(resolve));
    } catch (err) {
      sock.destroy();
      throw err;
    }
    for (let i = 0; ; i++) {
      const st = await this.status();
      if (st === 'running') return;
      if (st !== 'inmigrate' && st !== 'paused' && st !== 'prelaunch') throw new AgentError('vm_runtime_failed', `the VM did not resume (QEMU status ${st})`);
      if (i > 3000) throw new AgentError('vm_runtime_failed', 'the VM did not resume within 60 s');
      await new Promise((res) => setTimeout(res, 20));
    }
  }

  /** Stops QEMU: QMP quit, then SIGKILL if it has not exited in time. */
  async stop(): Promise<void> {
    if (this.running) {
      await this.execute('quit').catch(() => undefined);
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), QUIT_TIMEOUT_MS);
      await this.exited;
      clearTimeout(timer);
    }
    this.#qmp.close();
  }
}

async function connectRetry(path: string, timeoutMs = 10_000): Promise<Socket> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const s = connect(path);
        s.once('connect', () => resolve(s));
        s.once('error', reject);
      });
    } catch (err) {
      if (Date.now() > deadline) throw new AgentError('vm_runtime_failed', `QEMU's incoming migration socket did not open: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Reads a socket to its end, awaiting `sink` for each chunk (backpressure by pausing). */
function pumpInto(sock: Socket, sink: (chunk: Buffer) => Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    let chain = Promise.resolve();
    let failed = false;
    sock.on('data', (chunk: Buffer) => {
      sock.pause();
      chain = chain.then(() => sink(chunk)).then(
        () => {
          chunk.fill(0);
          sock.resume();
        },
        (err: unknown) => {
          failed = true;
          sock.destroy();
          reject(err as Error);
        },
      );
    });
    sock.once('error', (err) => {
      failed = true;
      reject(err);
    });
    sock.once('end', () => {
      void chain.then(() => {
        if (!failed) resolve();
      });
    });
  });
}
