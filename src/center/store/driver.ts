/**
 * A small SQL driver over SQLite (better-sqlite3) and PostgreSQL (pg). Statements are written once
 * with `?` placeholders; the PostgreSQL driver numbers them. Every call is serialized, so a
 * transaction sees no interleaved statement (center is one process per database).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import Database from 'better-sqlite3';
import pg from 'pg';
import { WalSync } from '../../common/wal-sync.js';
import { CenterError } from '../errors.js';

export type SqlValue = string | number | null;
export type Row = Record<string, unknown>;

export interface SqlDriver {
  readonly dialect: 'sqlite' | 'postgres';
  all(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
  /** Runs a statement; returns the number of rows changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /** Runs fn inside one transaction (nested calls join the outer one). */
  transaction<T>(fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,62}$/;

function dbError(err: unknown): CenterError {
  if (err instanceof CenterError) return err;
  return new CenterError('store_invalid', "center's database failed", { cause: err });
}

/** A FIFO lock: one statement or transaction at a time; calls made inside the holder run at once. */
class Serial {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly holder = new AsyncLocalStorage<true>();

  get held(): boolean {
    return this.holder.getStore() === true;
  }

  run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.held) return fn();
    const next = this.tail.then(() => this.holder.run(true, fn));
    this.tail = next.catch(() => undefined);
    return next;
  }
}

/**
 * SQLite in WAL mode. A write is durable (process crash and power loss) before its caller
 * resolves, without holding the event loop: statements run with synchronous=NORMAL, and the
 * caller then awaits an off-loop, coalesced fdatasync of the WAL (src/common/wal-sync.ts) after
 * the serial lock is released, so other statements run meanwhile and concurrent writers share
 * one sync. Prepared statements are compiled once per SQL text.
 */
export function openSqlite(file: string): SqlDriver {
  let db: Database.Database;
  try {
    db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
  } catch (err) {
    throw dbError(err);
  }
  const wal = new WalSync(file);
  const serial = new Serial();
  const statements = new Map<string, Database.Statement>();
  const st = (sql: string): Database.Statement => {
    let s = statements.get(sql);
    if (!s) {
      s = db.prepare(sql);
      statements.set(sql, s);
    }
    return s;
  };
  const guard = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      throw dbError(err);
    }
  };
  /** Waits for the WAL to be on disk; a failed sync fails the write it was to make durable. */
  const durable = async <T>(v: T): Promise<T> => {
    try {
      await wal.sync();
    } catch (err) {
      throw dbError(err);
    }
    return v;
  };
  return {
    dialect: 'sqlite',
    all: (sql, params = []) => serial.run(async () => guard(() => st(sql).all(...params) as Row[])),
    run: async (sql, params = []) => {
      if (serial.held) return guard(() => st(sql).run(...params).changes);
      return durable(await serial.run(async () => guard(() => st(sql).run(...params).changes)));
    },
    transaction: async (fn) => {
      if (serial.held) return fn();
      const v = await serial.run(async () => {
        guard(() => db.exec('BEGIN IMMEDIATE'));
        try {
          const v = await fn();
          guard(() => db.exec('COMMIT'));
          return v;
        } catch (err) {
          if (db.inTransaction) db.exec('ROLLBACK');
          throw err;
        }
      });
      return durable(v);
    },
    close: async () => {
      await wal.close();
      db.close();
    },
  };
}

function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** Opens PostgreSQL; a `schema` parameter of the URL selects (and creates) the schema. */
export async function openPostgres(url: string): Promise<SqlDriver> {
  let u: URL;
  try {
    u = new URL(url);
  } catch (err) {
    throw new CenterError('store_invalid', 'the database URL is not a valid postgres:// URL', { cause: err });
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:')
    throw new CenterError('store_invalid', 'the database URL must start with postgres://');
  const schema = u.searchParams.get('schema') ?? 'public';
  if (!SCHEMA_RE.test(schema))
    throw new CenterError('store_invalid', 'the schema parameter must match [a-z_][a-z0-9_]*');
  u.searchParams.delete('schema');
  const client = new pg.Client({ connectionString: u.toString() });
  // A dropped connection must not crash the server: the next query fails with store_invalid.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(`SET search_path TO ${schema}`);
  } catch (err) {
    await client.end().catch(() => undefined);
    throw dbError(err);
  }
  const serial = new Serial();
  const query = async (sql: string, params: readonly SqlValue[]): Promise<pg.QueryResult> => {
    try {
      return await client.query(numbered(sql), params as SqlValue[]);
    } catch (err) {
      throw dbError(err);
    }
  };
  return {
    dialect: 'postgres',
    all: (sql, params = []) => serial.run(async () => (await query(sql, params)).rows as Row[]),
    run: (sql, params = []) => serial.run(async () => (await query(sql, params)).rowCount ?? 0),
    transaction: (fn) => {
      if (serial.held) return fn();
      return serial.run(async () => {
        await query('BEGIN', []);
        try {
          const v = await fn();
          await query('COMMIT', []);
          return v;
        } catch (err) {
          await query('ROLLBACK', []).catch(() => undefined);
          throw err;
        }
      });
    },
    close: async () => {
      await client.end().catch(() => undefined);
    },
  };
}
