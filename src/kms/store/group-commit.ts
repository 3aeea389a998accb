/**
 * Group commit: writers that arrive while a commit is being prepared or is in flight share the
 * next transaction (and its one fsync). Each writer gets its own result or error.
 */
export type OpResult<R> =
  { readonly ok: true; readonly value: R } | { readonly ok: false; readonly error: unknown };

interface Pending<Op, R> {
  readonly op: Op;
  resolve(v: R): void;
  reject(e: unknown): void;
}

export interface GroupCommitOptions {
  /** How long the first writer of a batch waits for others (ms); 0 = the next turn of the event loop. */
  readonly windowMs?: number;
  /** Largest batch (default 512). */
  readonly maxBatch?: number;
}

export class GroupCommit<Op, R> {
  readonly #commit: (ops: readonly Op[]) => Promise<OpResult<R>[]>;
  readonly #windowMs: number;
  readonly #maxBatch: number;
  #queue: Pending<Op, R>[] = [];
  #scheduled = false;
  #running: Promise<void> | undefined;

  /** `commit` runs one transaction for the batch and returns one result per op, in order. */
  constructor(commit: (ops: readonly Op[]) => Promise<OpResult<R>[]>, opts: GroupCommitOptions = {}) {
    this.#commit = commit;
    this.#windowMs = opts.windowMs ?? 0;
    this.#maxBatch = opts.maxBatch ?? 512;
  }

  submit(op: Op): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ op, resolve, reject });
      this.#schedule();
    });
  }

  /** Resolves when every submitted op has been committed (or failed). */
  async drain(): Promise<void> {
    while (this.#running || this.#queue.length > 0 || this.#scheduled) {
      if (this.#running) await this.#running;
      else await new Promise((r) => setImmediate(r));
    }
  }

  #schedule(): void {
    if (this.#scheduled || this.#running) return;
    this.#scheduled = true;
    const go = (): void => {
      this.#scheduled = false;
      this.#running = this.#run().finally(() => {
        this.#running = undefined;
        if (this.#queue.length > 0) this.#schedule();
      });
    };
    if (this.#windowMs > 0) setTimeout(go, this.#windowMs);
    else setImmediate(go);
  }

  async #run(): Promise<void> {
    const batch = this.#queue.splice(0, this.#maxBatch);
    if (batch.length === 0) return;
    let results: OpResult<R>[];
    try {
      results = await this.#commit(batch.map((p) => p.op));
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    batch.forEach((p, i) => {
      const r = results[i];
      if (r?.ok) p.resolve(r.value);
      else p.reject(r ? r.error : new Error('group commit lost a result'));
    });
  }
}
