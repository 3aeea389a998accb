export type { StoredObject, LocateFilter, AuditRecord, StoredAuditRecord, KmsStore, OpenStoreOptions } from './types.js';
export { StoreError, STORE_ERROR_KINDS, type StoreErrorCode } from './errors.js';
export { RootKey, ROOT_KEY_FILE, ROOT_KEY_NEXT_FILE } from '../root-key.js';
export { openStore } from './open.js';
