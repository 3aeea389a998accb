import { SqliteStore } from './sqlite.js';
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
