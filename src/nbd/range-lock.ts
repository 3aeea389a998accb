/**
 * Exclusive locks on byte ranges, granted in arrival order among overlapping ranges. A request
 * waits only for earlier requests whose ranges overlap its own, so disjoint requests run in
 * parallel and overlapping ones run one after the other (no starvation, no deadlock: a request
 * only ever waits for earlier ones).
 */

interface Held {
  readonly start: number;
  readonly end: number;
  readonly done: Promise<void>;
  release: () => void;
}

/** Returned by acquire; call release() exactly once. */
export interface RangeLease {
  release(): void;
}

export class RangeLock {
  private readonly held: Held[] = [];

  /** Number of ranges held or waiting. */
  get pending(): number {
    return this.held.length;
  }

  /** Whether a lease held or waited for overlaps [start, end). */
  overlaps(start: number, end: number): boolean {
    for (const h of this.held) if (h.start < end && start < h.end) return true;
    return false;
  }

  /** Locks [start, end). Resolves once every earlier overlapping lease has been released. */
  acquire(start: number, end: number): Promise<RangeLease> | RangeLease {
    let waitFor: Promise<void>[] | undefined;
    for (const h of this.held) {
      if (h.start < end && start < h.end) (waitFor ??= []).push(h.done);
    }
    let release!: () => void;
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    const entry: Held = { start, end, done, release: () => undefined };
    entry.release = () => {
      const i = this.held.indexOf(entry);
      if (i < 0) return;
      this.held.splice(i, 1);
      release();
    };
    this.held.push(entry);
    const lease: RangeLease = { release: entry.release };
    if (waitFor === undefined) return lease;
    return Promise.all(waitFor).then(() => lease);
  }
}
