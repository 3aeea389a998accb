/**
 * At most `max` device requests of one NBD server run at once; the others wait in arrival order.
 * Without a bound, nbdcopy's default (4 connections × 64 requests of 256 KiB) puts 256 requests
 * into libuv's 4-thread pool at once: 64 MiB of fresh buffers, and replies that all finish late.
 * A few more requests than pool threads keep the pool busy while replies go out.
 * No deadlock: a request takes its slot before any range lock, so a lock holder always has a slot.
 */
import { NbdError } from './errors.js';

export class WorkLimit {
  readonly max: number;
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(max: number) {
    if (!Number.isSafeInteger(max) || max < 1)
      throw new NbdError('config_invalid', 'the active request limit must be a positive integer');
    this.max = max;
  }

  /** Requests waiting for a slot: they have not reached the device yet. */
  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active < this.max) this.active++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await fn();
    } finally {
      // The slot passes straight to the next waiter, or is freed.
      const next = this.waiting.shift();
      if (next !== undefined) next();
      else this.active--;
    }
  }
}
