/**
 * The SQLite backend: `dataDir/kms.db` in WAL mode. Writes go through group commit. With
 * durability 'fsync' each commit is made durable before its writers resolve, but without holding
 * the event loop: the transaction runs with synchronous=NORMAL, then the WAL file is fdatasync'd
 * off the loop (src/common/wal-sync.ts), and only then do the batch's writers resolve. Meanwhile
 * the event loop keeps reading, decoding and answering (Gets do not queue behind a commit's fsync).
 */
import Database from 'better-sqlite3';
import { chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../common/logging.js';
import { silentLogger } from '../../common/logging.js';
import { WalSync } from '../../common/wal-sync.js';
import { Checkpointer } from './checkpointer.js';
import type { RootKey } from '../root-key.js';
import { StoreError } from './errors.js';
import { BaseStore } from './base-store.js';
import type { OpResult } from './group-commit.js';
import { locateQuery } from './locate-query.js';
import { auditFromRow, fromRow, rowNames, type AuditRow, type ObjectRow } from './record.js';
import { SCHEMA_VERSION, SQLITE_MIGRATIONS } from './schema.js';
import type { Durability, LocateFilter, StoreBackend, StoredAuditRecord, StoredObject } from './types.js';
import { carriedAudit, type WriteOp } from './write-op.js';

export const SQLITE_FILE = 'kms.db';
const PAGE = 500;

type Db = Database.Database;

function readVersion(db: Db): number {
  const t = db
    .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'`)
    .get();
  if (!t) return 0;
  const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
  return row?.version ?? 0;
}

/** Brings a database to `target` (default: the latest version); refuses a newer one. */
export function migrateSqlite(db: Db, target: number = SCHEMA_VERSION): number {
  return db
    .transaction(() => {
      const from = readVersion(db);
      if (from > SCHEMA_VERSION)
        throw new StoreError(
          'schema_too_new',
          `database schema v${from} is newer than this KMS (v${SCHEMA_VERSION})`,
        );
      if (from === 0) db.exec('CREATE TABLE schema_version (version INTEGER NOT NULL)');
      for (let v = from + 1; v <= target; v++) for (const sql of SQLITE_MIGRATIONS[v - 1] ?? []) db.exec(sql);
      db.prepare('DELETE FROM schema_version').run();
      db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(Math.max(from, target));
      return from;
    })
    .immediate();
}

function dbError(err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  return new StoreError('database_error', 'the KMS database failed', { cause: err });
}

export class SqliteStore extends BaseStore implements StoreBackend {
  readonly kind = 'sqlite' as const;
  readonly #db: Db;
  readonly #file: string;

  /** Whether commits are fsync'd (durability 'fsync'), and the WAL's syncer. */
  readonly #syncWal: boolean;
  readonly #wal: WalSync;
  /** WAL checkpoints on a worker thread (checkpointer.ts). */
  readonly #checkpoints: Checkpointer;

  private constructor(db: Db, file: string, rootKey: RootKey, log: Logger, windowMs: number, syncWal: boolean) {
    super(rootKey, log, windowMs);
    this.#db = db;
    this.#file = file;
    this.#syncWal = syncWal;
    this.#wal = new WalSync(file);
    this.#checkpoints = new Checkpointer(file, log, () => db.pragma('wal_checkpoint(PASSIVE)'), {
      pageSize: Number(db.pragma('page_size', { simple: true })),
    });
  }

  readonly #statements = new Map<string, Database.Statement>();

  /** A prepared statement, compiled once per SQL text (Locate texts are few: one per filter shape). */
  #st(sql: string): Database.Statement {
    let st = this.#statements.get(sql);
    if (!st) {
      st = this.#db.prepare(sql);
      this.#statements.set(sql, st);
    }
    return st;
  }

  static open(opts: {
    dataDir: string;
    rootKey: RootKey;
    logger?: Logger;
    groupCommitMs?: number;
    durability?: Durability;
  }): SqliteStore {
    const file = join(opts.dataDir, SQLITE_FILE);
    const fresh = !existsSync(file);
    let db: Db;
    try {
      db = new Database(file);
    } catch (err) {
      throw dbError(err);
    }
    try {
      if (fresh) chmodSync(file, 0o600);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
      const from = migrateSqlite(db);
      // From here on, 'fsync' durability is an off-loop fdatasync of the WAL after each commit
      // (WalSync); schema migrations above were synced by SQLite itself.
      db.pragma('synchronous = NORMAL');
      // Checkpoints run on a worker thread, not inside a commit on the event loop (Checkpointer).
      db.pragma('wal_autocheckpoint = 0');
      // After the WAL restarts, its file is cut back to this size.
      db.pragma('journal_size_limit = 16777216');
      const log = opts.logger ?? silentLogger();
      if (from !== SCHEMA_VERSION) log.info({ from, to: SCHEMA_VERSION }, 'kms store schema migrated');
      return new SqliteStore(db, file, opts.rootKey, log, opts.groupCommitMs ?? 0, opts.durability !== 'process');
    } catch (err) {
      db.close();
      throw dbError(err);
    }
  }

  #apply(op: WriteOp, now: string): OpResult<void> {
    if (op.kind === 'audit') {
      const st = this.#st(
        'INSERT INTO audit (at, identity, operation, object_id, result, reason) VALUES (?, ?, ?, ?, ?, ?)',
      );
      for (const r of op.records)
        st.run(now, r.identity, r.operation, r.objectId ?? null, r.result, r.reason ?? null);
      return { ok: true, value: undefined };
    }
    const row = op.row;
    let seq: number | bigint;
    if (op.kind === 'insert') {
      const info = this.#st(
        `INSERT INTO objects (id, object_type, state, owner, names, algorithm, attributes, material, revision, created_at, updated_at)
           VALUES (@id, @object_type, @state, @owner, @names, @algorithm, @attributes, @material, @revision, @now, @now)
           ON CONFLICT (id) DO NOTHING`,
      ).run({ ...row, now });
      if (info.changes === 0)
        return { ok: false, error: new StoreError('exists', `object ${row.id} already exists`) };
      seq = info.lastInsertRowid;
    } else {
      const r = this.#st(
        `UPDATE objects SET object_type = @object_type, state = @state, owner = @owner, names = @names, algorithm = @algorithm,
             attributes = @attributes, material = @material, revision = @revision, updated_at = @now
           WHERE id = @id AND revision = @prev RETURNING seq`,
      ).get({ ...row, now, prev: row.revision - 1 }) as { seq: number } | undefined;
      if (!r) {
        const exists = this.#st('SELECT 1 FROM objects WHERE id = ?').get(row.id);
        return exists
          ? { ok: false, error: new StoreError('conflict', `object ${row.id} was changed concurrently`) }
          : { ok: false, error: new StoreError('not_found', `no object ${row.id}`) };
      }
      seq = r.seq;
      this.#st('DELETE FROM object_names WHERE object_seq = ?').run(seq);
    }
    const ins = this.#st('INSERT INTO object_names (object_seq, name) VALUES (?, ?)');
    for (const n of rowNames(row)) ins.run(seq, n);
    return { ok: true, value: undefined };
  }

  /** One transaction for the batch; if it fails as a whole, each op alone so one bad op fails alone. */
  protected async commit(ops: readonly WriteOp[]): Promise<OpResult<void>[]> {
    const now = new Date().toISOString();
    const applyAll = (batch: readonly WriteOp[]): OpResult<void>[] => {
      const results = batch.map((op) => this.#apply(op, now));
      const audit = carriedAudit(batch, results);
      if (audit) this.#apply(audit, now);
      return results;
    };
    let results: OpResult<void>[];
    try {
      results = this.#db.transaction(applyAll).immediate(ops);
    } catch (err) {
      this.log.warn({ err: String(err), ops: ops.length }, 'group commit failed; retrying one by one');
      results = ops.map((op) => {
        try {
          return this.#db.transaction(applyAll).immediate([op])[0] as OpResult<void>;
        } catch (e) {
          return { ok: false, error: dbError(e) };
        }
      });
    }
    this.#checkpoints.committed(ops.length);
    if (this.#syncWal) {
      try {
        await this.#wal.sync();
      } catch (err) {
        // Committed but not known to be on disk: no writer of this batch may be told it is durable.
        const error = dbError(err);
        return ops.map(() => ({ ok: false, error }));
      }
    }
    return results;
  }

  async get(id: string): Promise<StoredObject | undefined> {
    this.check();
    let row: ObjectRow | undefined;
    try {
      row = this.#st('SELECT * FROM objects WHERE id = ?').get(id) as ObjectRow | undefined;
    } catch (err) {
      throw dbError(err);
    }
    return row ? fromRow(row, this.rootKey) : undefined;
  }

  async locate(filter: LocateFilter): Promise<string[]> {
    this.check();
    const q = locateQuery(filter, () => '?');
    try {
      return (this.#st(q.sql).all(...q.params) as { id: string }[]).map((r) => r.id);
    } catch (err) {
      throw dbError(err);
    }
  }

  /** Pages through one read transaction of a separate connection: a consistent snapshot. */
  async *all(): AsyncIterable<StoredObject> {
    this.check();
    const reader = new Database(this.#file, { readonly: true });
    try {
      reader.pragma('busy_timeout = 5000');
      reader.exec('BEGIN');
      reader.prepare('SELECT count(*) FROM objects').get(); // starts the read snapshot now
      const page = reader.prepare('SELECT * FROM objects WHERE seq > ? ORDER BY seq LIMIT ?');
      let last = 0;
      for (;;) {
        const rows = page.all(last, PAGE) as (ObjectRow & { seq: number })[];
        for (const row of rows) yield fromRow(row, this.rootKey);
        if (rows.length < PAGE) break;
        last = (rows[rows.length - 1] as { seq: number }).seq;
      }
      reader.exec('COMMIT');
    } finally {
      reader.close();
    }
  }

  async listAudit(opts: { afterSeq?: number; limit?: number } = {}): Promise<StoredAuditRecord[]> {
    this.check();
    const rows = this.#st('SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?').all(
      opts.afterSeq ?? 0,
      opts.limit ?? 1000,
    ) as AuditRow[];
    return rows.map(auditFromRow);
  }

  async resealBatch(limit: number): Promise<number> {
    this.check();
    const target = Buffer.from(this.rootKey.id, 'hex');
    const n = this.#db
      .transaction(() => {
        const rows = this.#st(
          'SELECT seq, id, material FROM objects WHERE material IS NOT NULL AND substr(material, 2, 8) <> ? ORDER BY seq LIMIT ?',
        ).all(target, limit) as { seq: number; id: string; material: Buffer }[];
        const upd = this.#st('UPDATE objects SET material = ? WHERE seq = ? AND material = ?');
        for (const r of rows) {
          const plain = this.rootKey.unseal(r.id, r.material);
          try {
            upd.run(this.rootKey.seal(r.id, plain), r.seq, r.material);
          } finally {
            plain.fill(0);
          }
        }
        return rows.length;
      })
      .immediate();
    // Re-sealed blobs must be on disk before rotation may retire the old key.
    if (this.#syncWal && n > 0) await this.#wal.sync();
    return n;
  }

  async close(): Promise<void> {
    if (!(await this.closeWrites())) return;
    await this.#checkpoints.close();
    await this.#wal.close();
    this.#db.close();
  }
}
