import { CommonError } from '../../common/errors.js';
import type { KmsStore, OpenStoreOptions } from './types.js';

/** Opens (creating and migrating as needed) the KMS store: SQLite in dataDir/kms.db, or PostgreSQL. */
export async function openStore(opts: OpenStoreOptions): Promise<KmsStore> {
  throw new CommonError('not_supported', `store backends are not available yet (${opts.database ? 'postgres' : 'sqlite'})`);
}
