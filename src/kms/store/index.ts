export type {
  StoredObject,
  LocateFilter,
  AuditRecord,
  StoredAuditRecord,
  KmsStore,
  OpenStoreOptions,
  Durability,
} from './types.js';
export { StoreError, STORE_ERROR_KINDS, type StoreErrorCode } from './errors.js';
export { RootKey, ROOT_KEY_FILE, ROOT_KEY_NEXT_FILE } from '../root-key.js';
export { openStore } from './open.js';
export { storeExists, assertNoStore } from './backend.js';
export { rotateRootKey, type RotateResult, type RotateOptions } from './rotate.js';
export { SQLITE_FILE } from './sqlite.js';
export { SCHEMA_VERSION } from './schema.js';
export { backup, restore, type StoreSource, type BackupResult, type RestoreResult } from '../backup.js';
export { AuditLog, type AuditLogOptions } from '../audit.js';
