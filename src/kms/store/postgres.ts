/**
 * The PostgreSQL backend. Same schema and behaviour as SQLite; writes go through group commit
 * (one transaction per batch, committed with synchronous_commit=on by default). A `schema`
 * query parameter of the URL (postgres://…/db?schema=name) selects the PostgreSQL schema, created
 * if missing; the default is `public`.
 */
import pg from 'pg';
import type { Logger } from '../../common/logging.js';
import { silentLogger } from '../../common/logging.js';
import type { RootKey } from '../root-key.js';
import { StoreError } from './errors.js';
import { BaseStore } from './base-store.js';
import type { OpResult } from './group-commit.js';
import { locateQuery } from './locate-query.js';
import { auditFromRow, fromRow, rowNames, type AuditRow, type ObjectRow } from './record.js';
import { PG_MIGRATIONS, SCHEMA_VERSION } from './schema.js';
import type { Durability, LocateFilter, StoreBackend, StoredAuditRecord, StoredObject } from './types.js';
import { carriedAudit, type WriteOp } from './write-op.js';

const PAGE = 500;
const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,62}$/;

function dbError(err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  return new StoreError('database_error', 'the KMS database failed', { cause: err });
}

/** Splits the `schema` parameter off a postgres:// URL. */
export function parsePgUrl(url: string): { connectionString: string; schema: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch (err) {
    throw new StoreError('database_error', 'the database URL is not a valid postgres:// URL', { cause: err });
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    throw new StoreError('database_error', 'the database URL must start with postgres://');
  }
  const schema = u.searchParams.get('schema') ?? 'public';
  if (!SCHEMA_RE.test(schema))
    throw new StoreError('database_error', 'the schema parameter must match [a-z_][a-z0-9_]*');
  u.searchParams.delete('schema');
  return { connectionString: u.toString(), schema };
}

type Client = pg.PoolClient;

async function migrate(client: Client, schema: string): Promise<number> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`cryptvisor-kms-schema:${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`);
    const r = await client.query<{ version: number }>('SELECT version FROM schema_version');
    const from = r.rows[0]?.version ?? 0;
    if (from > SCHEMA_VERSION)
      throw new StoreError(
        'schema_too_new',
        `database schema v${from} is newer than this KMS (v${SCHEMA_VERSION})`,
      );
    for (let v = from + 1; v <= SCHEMA_VERSION; v++)
      for (const sql of PG_MIGRATIONS[v - 1] ?? []) await client.query(sql);
    await client.query('DELETE FROM schema_version');
    await client.query('INSERT INTO schema_version (version) VALUES ($1)', [Math.max(from, SCHEMA_VERSION)]);
    await client.query('COMMIT');
    return from;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

interface PgRow extends Omit<ObjectRow, 'revision'> {
  readonly seq: string;
  readonly revision: number;
}

export class PgStore extends BaseStore implements StoreBackend {
  readonly kind = 'postgres' as const;
  readonly #pool: pg.Pool;

  private constructor(pool: pg.Pool, rootKey: RootKey, log: Logger, windowMs: number) {
    super(rootKey, log, windowMs);
    this.#pool = pool;
  }

  /** True if the URL's schema already holds a KMS store (a schema_version table). */
  static async exists(url: string): Promise<boolean> {
    const { connectionString, schema } = parsePgUrl(url);
    const c = new pg.Client({ connectionString, connectionTimeoutMillis: 10_000 });
    try {
      await c.connect();
      const r = await c.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [
        `${schema}.schema_version`,
      ]);
      return r.rows[0]?.t != null;
    } catch (err) {
      throw new StoreError('database_error', 'cannot reach the KMS database on PostgreSQL', { cause: err });
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  static async open(opts: {
    url: string;
    rootKey: RootKey;
    logger?: Logger;
    groupCommitMs?: number;
    durability?: Durability;
  }): Promise<PgStore> {
    const { connectionString, schema } = parsePgUrl(opts.url);
    const log = opts.logger ?? silentLogger();
    const pool = new pg.Pool({ connectionString, max: 8, connectionTimeoutMillis: 10_000 });
    const sync = opts.durability === 'process' ? 'off' : 'on';
    pool.on('connect', (c) => {
      // Queued before any other query of this client.
      c.query(`SET search_path TO ${schema}; SET synchronous_commit TO ${sync}`).catch(() => undefined);
    });
    pool.on('error', (err) => log.warn({ err: err.message }, 'idle PostgreSQL connection failed'));
    try {
      const client = await pool.connect();
      try {
        const from = await migrate(client, schema);
        if (from !== SCHEMA_VERSION)
          log.info({ from, to: SCHEMA_VERSION, schema }, 'kms store schema migrated');
      } finally {
        client.release();
      }
    } catch (err) {
      await pool.end().catch(() => undefined);
      if (err instanceof StoreError) throw err;
      throw new StoreError('database_error', 'cannot open the KMS database on PostgreSQL', { cause: err });
    }
    return new PgStore(pool, opts.rootKey, log, opts.groupCommitMs ?? 0);
  }

  async #apply(c: Client, op: WriteOp, now: Date): Promise<OpResult<void>> {
    if (op.kind === 'audit') {
      const rs = op.records;
      await c.query(
        `INSERT INTO audit (at, identity, operation, object_id, result, reason)
         SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[])`,
        [
          now,
          rs.map((r) => r.identity),
          rs.map((r) => r.operation),
          rs.map((r) => r.objectId ?? null),
          rs.map((r) => r.result),
          rs.map((r) => r.reason ?? null),
        ],
      );
      return { ok: true, value: undefined };
    }
    const r = op.row;
    const vals = [
      r.id,
      r.object_type,
      r.state,
      r.owner,
      r.names,
      r.algorithm,
      r.attributes,
      r.material,
      r.revision,
      now,
    ];
    if (op.kind === 'insert') {
      const res = await c.query(
        `WITH o AS (
           INSERT INTO objects (id, object_type, state, owner, names, algorithm, attributes, material, revision, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) ON CONFLICT (id) DO NOTHING RETURNING seq),
         n AS (INSERT INTO object_names (object_seq, name) SELECT o.seq, x FROM o, unnest($11::text[]) AS x)
         SELECT seq FROM o`,
        [...vals, rowNames(r)],
      );
      if (res.rowCount === 0)
        return { ok: false, error: new StoreError('exists', `object ${r.id} already exists`) };
      return { ok: true, value: undefined };
    }
    const res = await c.query<{ seq: string }>(
      `UPDATE objects SET object_type = $2, state = $3, owner = $4, names = $5, algorithm = $6, attributes = $7,
         material = $8, revision = $9, updated_at = $10
       WHERE id = $1 AND revision = $11 RETURNING seq`,
      [...vals, r.revision - 1],
    );
    const seq = res.rows[0]?.seq;
    if (seq === undefined) {
      const e = await c.query('SELECT 1 FROM objects WHERE id = $1', [r.id]);
      return e.rowCount
        ? { ok: false, error: new StoreError('conflict', `object ${r.id} was changed concurrently`) }
        : { ok: false, error: new StoreError('not_found', `no object ${r.id}`) };
    }
    await c.query('DELETE FROM object_names WHERE object_seq = $1', [seq]);
    await c.query('INSERT INTO object_names (object_seq, name) SELECT $1, x FROM unnest($2::text[]) AS x', [
      seq,
      rowNames(r),
    ]);
    return { ok: true, value: undefined };
  }

  async #inTransaction<T>(fn: (c: Client) => Promise<T>): Promise<T> {
    const c = await this.#pool.connect();
    let broken: Error | undefined;
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (err) {
      await c.query('ROLLBACK').catch((e: Error) => (broken = e));
      throw err;
    } finally {
      c.release(broken);
    }
  }

  /** Inserts a run of consecutive insert ops in two statements (objects, then names). */
  async #insertMany(c: Client, rows: readonly ObjectRow[], now: Date): Promise<OpResult<void>[]> {
    const seen = new Set<string>();
    const fresh = rows.filter((r) => !seen.has(r.id) && seen.add(r.id));
    const res = await c.query<{ id: string; seq: string }>(
      `INSERT INTO objects (id, object_type, state, owner, names, algorithm, attributes, material, revision, created_at, updated_at)
       SELECT id, object_type, state, owner, names, algorithm, attributes, material, revision, $10, $10
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bytea[], $9::int[])
         WITH ORDINALITY AS t(id, object_type, state, owner, names, algorithm, attributes, material, revision, ord)
       ORDER BY ord
       ON CONFLICT (id) DO NOTHING RETURNING id, seq`,
      [
        fresh.map((r) => r.id),
        fresh.map((r) => r.object_type),
        fresh.map((r) => r.state),
        fresh.map((r) => r.owner),
        fresh.map((r) => r.names),
        fresh.map((r) => r.algorithm),
        fresh.map((r) => r.attributes),
        fresh.map((r) => (r.material === null ? null : Buffer.from(r.material))),
        fresh.map((r) => r.revision),
        now,
      ],
    );
    const seqOf = new Map(res.rows.map((r) => [r.id, r.seq]));
    const nameSeqs: string[] = [];
    const names: string[] = [];
    for (const r of fresh) {
      const seq = seqOf.get(r.id);
      if (seq === undefined) continue;
      for (const n of rowNames(r)) {
        nameSeqs.push(seq);
        names.push(n);
      }
    }
    if (names.length > 0) {
      await c.query(
        'INSERT INTO object_names (object_seq, name) SELECT * FROM unnest($1::bigint[], $2::text[])',
        [nameSeqs, names],
      );
    }
    const claimed = new Set<string>();
    return rows.map((r) => {
      if (seqOf.has(r.id) && !claimed.has(r.id)) {
        claimed.add(r.id);
        return { ok: true, value: undefined };
      }
      return { ok: false, error: new StoreError('exists', `object ${r.id} already exists`) };
    });
  }

  async #applyAll(c: Client, ops: readonly WriteOp[], now: Date): Promise<OpResult<void>[]> {
    const out: OpResult<void>[] = [];
    for (let i = 0; i < ops.length;) {
      const run: ObjectRow[] = [];
      for (let op = ops[i]; op && op.kind === 'insert'; op = ops[++i]) run.push(op.row);
      if (run.length > 0) out.push(...(await this.#insertMany(c, run, now)));
      else out.push(await this.#apply(c, ops[i++] as WriteOp, now));
    }
    const audit = carriedAudit(ops, out);
    if (audit) await this.#apply(c, audit, now);
    return out;
  }

  protected async commit(ops: readonly WriteOp[]): Promise<OpResult<void>[]> {
    const now = new Date();
    try {
      return await this.#inTransaction((c) => this.#applyAll(c, ops, now));
    } catch (err) {
      if (ops.length === 1) return [{ ok: false, error: dbError(err) }];
      this.log.warn({ err: String(err), ops: ops.length }, 'group commit failed; retrying one by one');
      const out: OpResult<void>[] = [];
      for (const op of ops) {
        try {
          out.push((await this.#inTransaction((c) => this.#applyAll(c, [op], now)))[0] as OpResult<void>);
        } catch (e) {
          out.push({ ok: false, error: dbError(e) });
        }
      }
      return out;
    }
  }

  async #query<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<R[]> {
    try {
      return (await this.#pool.query<R>(sql, params)).rows;
    } catch (err) {
      throw dbError(err);
    }
  }

  async get(id: string): Promise<StoredObject | undefined> {
    this.check();
    const rows = await this.#query<PgRow>('SELECT * FROM objects WHERE id = $1', [id]);
    return rows[0] ? fromRow(rows[0], this.rootKey) : undefined;
  }

  async locate(filter: LocateFilter): Promise<string[]> {
    this.check();
    const q = locateQuery(filter, (n) => `$${n}`);
    return (await this.#query<{ id: string }>(q.sql, q.params)).map((r) => r.id);
  }

  /** Pages through one REPEATABLE READ transaction: a consistent snapshot. */
  async *all(): AsyncIterable<StoredObject> {
    this.check();
    const c = await this.#pool.connect();
    let broken: Error | undefined;
    try {
      await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      let last = '0';
      for (;;) {
        const rows = (
          await c.query<PgRow>('SELECT * FROM objects WHERE seq > $1 ORDER BY seq LIMIT $2', [last, PAGE])
        ).rows;
        for (const row of rows) yield fromRow(row, this.rootKey);
        if (rows.length < PAGE) break;
        last = (rows[rows.length - 1] as PgRow).seq;
      }
      await c.query('COMMIT');
    } catch (err) {
      broken = err instanceof Error ? err : new Error(String(err));
      throw dbError(err);
    } finally {
      if (broken) await c.query('ROLLBACK').catch(() => undefined);
      c.release(broken);
    }
  }

  async listAudit(opts: { afterSeq?: number; limit?: number } = {}): Promise<StoredAuditRecord[]> {
    this.check();
    const rows = await this.#query<AuditRow>('SELECT * FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2', [
      opts.afterSeq ?? 0,
      opts.limit ?? 1000,
    ]);
    return rows.map(auditFromRow);
  }

  async resealBatch(limit: number): Promise<number> {
    this.check();
    const target = Buffer.from(this.rootKey.id, 'hex');
    return this.#inTransaction(async (c) => {
      const rows = (
        await c.query<{ seq: string; id: string; material: Buffer }>(
          `SELECT seq, id, material FROM objects WHERE material IS NOT NULL AND substring(material from 2 for 8) <> $1
           ORDER BY seq LIMIT $2 FOR UPDATE`,
          [target, limit],
        )
      ).rows;
      for (const r of rows) {
        const plain = this.rootKey.unseal(r.id, r.material);
        try {
          await c.query('UPDATE objects SET material = $1 WHERE seq = $2', [
            this.rootKey.seal(r.id, plain),
            r.seq,
          ]);
        } finally {
          plain.fill(0);
        }
      }
      return rows.length;
    });
  }

  async close(): Promise<void> {
    if (!(await this.closeWrites())) return;
    await this.#pool.end();
  }
}
