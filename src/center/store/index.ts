export { CenterStore, auditHash, GENESIS_HASH, type OpenCenterStoreOptions } from './center-store.js';
export { MIGRATIONS, SCHEMA_VERSION } from './schema.js';
export type { Row, SqlDriver } from './driver.js';
export type {
  AuditInput,
  AuditRecord,
  HostRecord,
  ProviderRecord,
  TokenRecord,
  UserRecord,
} from './types.js';
