/**
 * A QEMU Machine Protocol client (JSON lines over the VM's private Unix socket): the greeting,
 * `qmp_capabilities`, then one command at a time; asynchronous events are kept for waiters.
 */
import { connect, type Socket } from 'node:net';
import { AgentError } from '../errors.js';

interface QmpReply {
  readonly return?: unknown;
  readonly error?: { readonly class: string; readonly desc: string };
  readonly event?: string;
  readonly QMP?: unknown;
}

const MAX_LINE = 1024 * 1024;

export class QmpClient {
  readonly #sock: Socket;
  #buf = '';
  readonly #replies: ((r: QmpReply) => void)[] = [];
  #chain: Promise<unknown> = Promise.resolve();
  #closed: Error | null = null;
  readonly #events: string[] = [];
  readonly #eventWaiters: { name: string; resolve: () => void }[] = [];

  private constructor(sock: Socket) {
    this.#sock = sock;
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => this.#onData(d));
    sock.on('error', (err) => this.#fail(err));
    sock.on('close', () => this.#fail(new Error('the QMP socket closed')));
  }

  /** Connects (retrying while QEMU creates the socket) and negotiates capabilities. */
  static async connect(path: string, timeoutMs = 10_000): Promise<QmpClient> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const sock = await new Promise<Socket>((resolve, reject) => {
          const s = connect(path);
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        });
        const client = new QmpClient(sock);
        await client.#next(); // greeting
        await client.execute('qmp_capabilities');
        return client;
      } catch (err) {
        if (Date.now() > deadline) throw new AgentError('vm_runtime_failed', `QEMU's monitor did not answer: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  #onData(d: string): void {
    this.#buf += d;
    if (this.#buf.length > MAX_LINE) {
      this.#fail(new Error('QMP line too long'));
      this.#sock.destroy();
      return;
    }
    let nl: number;
    while ((nl = this.#buf.indexOf('\n')) >= 0) {
      const line = this.#buf.slice(0, nl).trim();
      this.#buf = this.#buf.slice(nl + 1);
      if (!line) continue;
      let msg: QmpReply;
      try {
        msg = JSON.parse(line) as QmpReply;
      } catch {
        continue;
      }
      if (msg.event !== undefined) {
        this.#events.push(msg.event);
        for (const w of this.#eventWaiters.filter((x) => x.name === msg.event)) w.resolve();
        continue;
      }
      this.#replies.shift()?.(msg);
    }
  }

  #fail(err: Error): void {
    if (this.#closed) return;
    this.#closed = err;
    for (const r of this.#replies.splice(0)) r({ error: { class: 'Disconnected', desc: err.message } });
  }

  #next(): Promise<QmpReply> {
    if (this.#closed) return Promise.resolve({ error: { class: 'Disconnected', desc: this.#closed.message } });
    return new Promise((resolve) => this.#replies.push(resolve));
  }

  /** Runs one command; a QMP error becomes vm_runtime_failed with QEMU's description. */
  execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    const run = async (): Promise<unknown> => {
      const reply = this.#next();
      this.#sock.write(JSON.stringify(args ? { execute: command, arguments: args } : { execute: command }) + '\n');
      const r = await reply;
      if (r.error) throw new AgentError('vm_runtime_failed', `QEMU ${command}: ${r.error.desc}`);
      return r.return;
    };
    const p = this.#chain.then(run, run);
    this.#chain = p.catch(() => undefined);
    return p;
  }

  /** Resolves when QEMU has sent the event (at once if it already did). */
  waitEvent(name: string): Promise<void> {
    if (this.#events.includes(name)) return Promise.resolve();
    return new Promise((resolve) => this.#eventWaiters.push({ name, resolve }));
  }

  get closed(): boolean {
    return this.#closed !== null;
  }

  close(): void {
    this.#sock.destroy();
  }
}
