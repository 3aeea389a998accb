/**
 * The one read a reader may have waiting, and the first failure, which ends that read and every
 * read after it. Shared by ByteReader and SocketRequests.
 */
import { NbdError } from './errors.js';

export type Waiter<T, E extends object> = E & { readonly resolve: (v: T) => void; readonly reject: (e: Error) => void };

export class PendingRead<T, E extends object = object> {
  #waiter: Waiter<T, E> | null = null;
  #failure: Error | null = null;

  /** The first failure, or null. */
  get failure(): Error | null {
    return this.#failure;
  }

  /** The waiting read, or null. */
  get waiter(): Waiter<T, E> | null {
    return this.#waiter;
  }

  /** A read that waits (with `extra` kept on it); rejected at once after a failure or while another waits. */
  wait(extra: E): Promise<T> {
    if (this.#failure !== null) return Promise.reject(this.#failure);
    if (this.#waiter !== null) return Promise.reject(new NbdError('protocol', 'concurrent reads'));
    return new Promise<T>((resolve, reject) => (this.#waiter = { ...extra, resolve, reject }));
  }

  /** Completes the waiting read, if any. */
  settle(value: T): void {
    const w = this.#waiter;
    this.#waiter = null;
    w?.resolve(value);
  }

  /** Keeps the first failure and rejects the waiting read with it. */
  fail(err: Error): void {
    if (this.#failure === null) this.#failure = err;
    const w = this.#waiter;
    this.#waiter = null;
    w?.reject(this.#failure);
  }
}
