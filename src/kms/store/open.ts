import { openBackend } from './backend.js';
import { completeRotation } from './rotate.js';
import type { KmsStore, OpenStoreOptions } from './types.js';

/**
 * Opens the KMS store: SQLite in dataDir/kms.db, or PostgreSQL when `database` is a postgres:// URL.
 * Creates and migrates the schema as needed, and finishes a root-key rotation a crash interrupted.
 */
export async function openStore(opts: OpenStoreOptions): Promise<KmsStore> {
  const store = await openBackend(opts);
  if (opts.rootKey.rotationPending) {
    try {
      await completeRotation(store, opts.rootKey, opts.logger ? { logger: opts.logger } : {});
    } catch (err) {
      await store.close();
      throw err;
    }
  }
  return store;
}
