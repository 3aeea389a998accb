/**
 * Runs async tasks one after another per key (center: per host), while tasks of different keys
 * run concurrently. A failed task does not stop the ones queued after it; a key whose queue has
 * drained is forgotten, so the map holds only keys with work queued.
 */
export class KeyedSerial {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const run = (this.#tails.get(key) ?? Promise.resolve()).then(fn);
    const tail = run.catch(() => undefined);
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return run;
  }
}
