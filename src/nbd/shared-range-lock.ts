/**
 * Exclusive locks on byte ranges, shared between threads through a SharedArrayBuffer: the write
 * locks of a device that transmission workers serve (transmission-pool.ts), so that overlapping
 * writes arriving on connections in different threads are serialized, as RangeLock does within
 * one thread. An AlignedDevice takes its own RangeLock first (which keeps arrival order among its
 * thread's requests) and this lock second.
 *
 * The buffer holds a mutex, a generation counter and a table of held ranges. Acquiring takes the
 * mutex, checks the table for an overlapping range, and either claims a free entry or notes the
 * generation and waits (Atomics.waitAsync, so the thread keeps serving) until a release bumps it.
 * The mutex guards a scan of the table only (no I/O), so it is held for microseconds; a thread
 * that finds it taken spins briefly, then blocks in Atomics.wait.
 */
import { NbdError } from './errors.js';
import type { RangeLease } from './range-lock.js';

/** Ranges held at once (in all threads together); a request finding the table full waits for a release. */
const ENTRIES = 128;
const MUTEX = 0;
const GEN = 1;
/** Int32 header (mutex, generation), then Float64 pairs [start, end) from byte 8; start < 0 marks a free entry. */
const TABLE_OFFSET = 8;
const BYTES = TABLE_OFFSET + ENTRIES * 16;
const SPINS = 100;

type WaitAsync = (a: Int32Array, index: number, value: number) => { async: boolean; value: Promise<string> | string };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

export class SharedRangeLock {
  readonly buffer: SharedArrayBuffer;
  private readonly head: Int32Array;
  private readonly table: Float64Array;
  /** The generation seen by the last failed claim. */
  private seen = 0;

  private constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.head = new Int32Array(buffer, 0, 2);
    this.table = new Float64Array(buffer, TABLE_OFFSET, ENTRIES * 2);
  }

  /** A new, empty lock table. */
  static create(): SharedRangeLock {
    const lock = new SharedRangeLock(new SharedArrayBuffer(BYTES));
    lock.table.fill(-1);
    return lock;
  }

  /** The lock table another thread created. */
  static attach(buffer: unknown): SharedRangeLock {
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength !== BYTES) {
      throw new NbdError('config_invalid', 'not a shared range lock table');
    }
    return new SharedRangeLock(buffer);
  }

  /** Locks [start, end); resolves once no other holder in any thread overlaps it. */
  acquire(start: number, end: number): Promise<RangeLease> | RangeLease {
    const entry = this.claim(start, end);
    return entry >= 0 ? this.lease(entry) : this.wait(start, end);
  }

  /**
   * Takes [start, end) if no holder in any thread overlaps it (and the table has room): the entry
   * to give to releaseEntry(), or -1 with nothing taken.
   */
  tryAcquire(start: number, end: number): number {
    return this.claim(start, end);
  }

  /** Releases an entry from tryAcquire(), once. */
  releaseEntry(entry: number): void {
    this.lock();
    this.table[2 * entry] = -1;
    Atomics.add(this.head, GEN, 1);
    this.unlock();
    Atomics.notify(this.head, GEN);
  }

  private async wait(start: number, end: number): Promise<RangeLease> {
    for (;;) {
      const w = waitAsync(this.head, GEN, this.seen);
      if (w.async) await w.value;
      const entry = this.claim(start, end);
      if (entry >= 0) return this.lease(entry);
    }
  }

  /** The entry now holding [start, end), or -1 (and `seen` set) when it must wait. */
  private claim(start: number, end: number): number {
    const t = this.table;
    this.lock();
    try {
      let free = -1;
      for (let i = 0; i < ENTRIES; i++) {
        const s = t[2 * i] as number;
        if (s < 0) {
          if (free < 0) free = i;
        } else if (s < end && start < (t[2 * i + 1] as number)) {
          free = -1;
          break;
        }
      }
      if (free < 0) {
        this.seen = Atomics.load(this.head, GEN);
        return -1;
      }
      t[2 * free + 1] = end;
      t[2 * free] = start;
      return free;
    } finally {
      this.unlock();
    }
  }

  private lease(entry: number): RangeLease {
    let held = true;
    return {
      release: (): void => {
        if (!held) return;
        held = false;
        this.releaseEntry(entry);
      },
    };
  }

  /** A futex mutex: 0 free, 1 held, 2 held with waiters. */
  private lock(): void {
    const h = this.head;
    if (Atomics.compareExchange(h, MUTEX, 0, 1) === 0) return;
    for (let i = 0; i < SPINS; i++) {
      if (Atomics.load(h, MUTEX) === 0 && Atomics.compareExchange(h, MUTEX, 0, 1) === 0) return;
    }
    while (Atomics.exchange(h, MUTEX, 2) !== 0) Atomics.wait(h, MUTEX, 2);
  }

  private unlock(): void {
    if (Atomics.sub(this.head, MUTEX, 1) !== 1) {
      Atomics.store(this.head, MUTEX, 0);
      Atomics.notify(this.head, MUTEX, 1);
    }
  }
}
