import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { StoreError } from './errors.js';
import { SQLITE_FILE, SqliteStore } from './sqlite.js';
import { PgStore } from './postgres.js';
import type { OpenStoreOptions, StoreBackend } from './types.js';

/** Opens the backend the options name (migrating its schema), without finishing a pending rotation. */
export async function openBackend(opts: OpenStoreOptions): Promise<StoreBackend> {
  const gc = {
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(opts.groupCommitMs !== undefined ? { groupCommitMs: opts.groupCommitMs } : {}),
    ...(opts.durability ? { durability: opts.durability } : {}),
  };
  if (opts.database === undefined || opts.database === '' || opts.database === 'sqlite') {
    return SqliteStore.open({ dataDir: opts.dataDir, rootKey: opts.rootKey, ...gc });
  }
  return PgStore.open({ url: opts.database, rootKey: opts.rootKey, ...gc });
}

/**
 * True if the options name an existing store (SQLite: dataDir/kms.db exists; PostgreSQL: the schema
 * has a schema_version table). `kms init` refuses such a place unless it joins a cluster.
 */
export async function storeExists(opts: { dataDir: string; database?: string }): Promise<boolean> {
  if (opts.database === undefined || opts.database === '' || opts.database === 'sqlite') {
    return existsSync(join(opts.dataDir, SQLITE_FILE));
  }
  return PgStore.exists(opts.database);
}

/** Throws StoreError('store_exists') if storeExists(opts). */
export async function assertNoStore(opts: { dataDir: string; database?: string }): Promise<void> {
  if (await storeExists(opts)) throw new StoreError('store_exists', 'a KMS store already exists there');
}
