/**
 * WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside the commit that
 * crosses 1,000 WAL pages, on the thread that commits: it copies the pages into the database and
 * fsyncs both files, holding the KMS's event loop for milliseconds every few thousand writes —
 * the largest part of the Create latency tail at 32 clients (docs/kms-storage.md). Instead the
 * main connection runs with `wal_autocheckpoint = 0`, and this class asks a worker thread with its
 * own connection (checkpoint-worker.ts) for a PASSIVE checkpoint after every `everyOps` committed
 * writes. A PASSIVE checkpoint never blocks the writer.
 *
 * The WAL restarts from its beginning only when a write begins while every frame is already in
 * the database, which under a steady stream of writes the worker alone rarely achieves (frames
 * arrive while it copies). So when a worker checkpoint reports a WAL above `maxWalBytes`, the main
 * thread checkpoints the few frames written since, right away (a short copy and two fsyncs, once
 * per `maxWalBytes` of writes, not every 1,000 pages), and the next write restarts the WAL;
 * `journal_size_limit` then truncates the file. Without a worker (it failed), checkpoints run
 * inline every `everyOps` writes, as SQLite's own would.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../common/logging.js';

export interface CheckpointerOptions {
  /** Committed writes between two checkpoint requests (default 1,000). */
  readonly everyOps?: number;
  /** WAL size above which the main thread catches up after a worker checkpoint (default 64 MiB). */
  readonly maxWalBytes?: number;
  /** The database's page size (default 4096). */
  readonly pageSize?: number;
}

/** The worker's answer to 'checkpoint' (one at a time, so no request IDs). */
interface Reply {
  readonly ok: boolean;
  /** Frames in the WAL when the checkpoint ran. */
  readonly log?: number;
  readonly error?: string;
}

export class Checkpointer {
  readonly #file: string;
  readonly #log: Logger;
  readonly #everyOps: number;
  readonly #maxWalBytes: number;
  readonly #pageSize: number;
  readonly #inline: () => void;
  #worker: Worker | undefined;
  #ops = 0;
  #running = false;
  #done = 0;
  #inlined = 0;
  #idle: (() => void) | undefined;

  /** `inline` checkpoints on the calling thread (the bound, and the fallback without a worker). */
  constructor(file: string, log: Logger, inline: () => void, opts: CheckpointerOptions = {}) {
    this.#file = file;
    this.#log = log;
    this.#inline = inline;
    this.#everyOps = opts.everyOps ?? 1000;
    this.#maxWalBytes = opts.maxWalBytes ?? 64 * 1024 * 1024;
    this.#pageSize = opts.pageSize ?? 4096;
    this.#start();
  }

  /** Checkpoints the worker completed (for tests and metrics). */
  get completed(): number {
    return this.#done;
  }

  #start(): void {
    const w = new Worker(new URL('./checkpoint-worker.js', import.meta.url), { workerData: { file: this.#file } });
    w.unref();
    w.on('message', (r: Reply) => {
      this.#running = false;
      if (r.ok) {
        this.#done++;
        if ((r.log ?? 0) * this.#pageSize > this.#maxWalBytes) this.#inlineNow();
      } else this.#log.warn({ err: r.error }, 'WAL checkpoint failed; the next one retries');
      this.#idle?.();
    });
    w.on('error', (err) => {
      this.#log.error({ err: err.message }, 'the WAL checkpointer thread failed; checkpoints run inline');
      this.#worker = undefined;
      this.#running = false;
      this.#idle?.();
    });
    this.#worker = w;
  }

  /** Counts `n` committed writes; asks for a checkpoint when due. Call after each commit. */
  committed(n: number): void {
    this.#ops += n;
    if (this.#ops < this.#everyOps) return;
    if (this.#worker && this.#running) return;
    this.#ops = 0;
    if (!this.#worker) {
      this.#inlineNow();
      return;
    }
    this.#running = true;
    this.#worker.postMessage('checkpoint');
  }

  #inlineNow(): void {
    try {
      this.#inline();
      this.#inlined++;
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, 'WAL checkpoint failed; the next one retries');
    }
  }

  /** Checkpoints run on the main thread (catch-ups and fallbacks). */
  get inlined(): number {
    return this.#inlined;
  }

  /** Waits for a running checkpoint, then stops the worker. */
  async close(): Promise<void> {
    const w = this.#worker;
    if (!w) return;
    w.ref(); // the wait below must keep the process alive
    if (this.#running) await new Promise<void>((r) => (this.#idle = r));
    this.#worker = undefined;
    const exited = new Promise((r) => w.once('exit', r));
    w.postMessage('close');
    await exited;
  }
}
