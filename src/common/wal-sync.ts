/**
 * Durable SQLite commits without holding the event loop. The database runs in WAL mode with
 * synchronous=NORMAL, so a commit writes the WAL frames and does not fsync them; the writer then
 * awaits `sync()`, an fdatasync of the WAL file through libuv's thread pool
 * (`FileHandle.datasync`). fsync acts on the file, not on the descriptor, so our own descriptor of
 * `DB-wal` flushes the frames SQLite wrote; with synchronous=NORMAL SQLite itself still syncs the
 * WAL before each checkpoint and the database after it, so nothing is ever only in a WAL that was
 * reset. The descriptor is checked against the path's inode before each sync and reopened (and
 * the directory synced) if the WAL was replaced.
 *
 * Syncs are coalesced: one runs at a time, and every caller that arrives while one runs shares
 * the next one, which starts after their commits were written — so N concurrent writers cost two
 * fdatasyncs, not N.
 */
import { statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

export class WalSync {
  readonly #dbFile: string;
  #wal: { fh: FileHandle; ino: number } | undefined;
  /** The last sync started or queued; the one new callers may still join. */
  #current: Promise<void> = Promise.resolve();
  #next: Promise<void> | undefined;
  #count = 0;

  constructor(dbFile: string) {
    this.#dbFile = dbFile;
  }

  /** fdatasyncs run so far (how well concurrent writers were coalesced). */
  get count(): number {
    return this.#count;
  }

  /** Resolves once every commit written before the call is on disk. */
  sync(): Promise<void> {
    if (this.#next) return this.#next;
    const next: Promise<void> = this.#current
      .catch(() => undefined)
      .then(() => {
        // From here on, a new caller's commit may postdate this sync's start: it queues another.
        if (this.#next === next) this.#next = undefined;
        return this.#syncNow();
      });
    this.#next = next;
    this.#current = next;
    return next;
  }

  async #syncNow(): Promise<void> {
    const path = `${this.#dbFile}-wal`;
    const ino = statSync(path).ino;
    if (this.#wal?.ino !== ino) {
      await this.#wal?.fh.close();
      this.#wal = undefined;
      const fh = await open(path, 'r');
      this.#wal = { fh, ino: (await fh.stat()).ino };
      // A new WAL file: its directory entry must be durable too.
      const dir = await open(dirname(this.#dbFile), 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    }
    await this.#wal.fh.datasync();
    this.#count++;
  }

  /** Waits for a running sync, then closes the descriptor. */
  async close(): Promise<void> {
    await this.#current.catch(() => undefined);
    await this.#wal?.fh.close();
    this.#wal = undefined;
  }
}
