import { CryptvisorError, type ErrorKind } from '../../common/errors.js';

/** Errors of the KMS store, root key, backup and audit (docs/kms-storage.md lists each code). */
export type StoreErrorCode =
  | 'exists'
  | 'not_found'
  | 'conflict'
  | 'invalid_object'
  | 'unseal_failed'
  | 'root_key_missing'
  | 'root_key_exists'
  | 'root_key_permissions'
  | 'root_key_invalid'
  | 'root_key_unknown'
  | 'store_exists'
  | 'store_not_empty'
  | 'schema_too_new'
  | 'backup_invalid'
  | 'database_error'
  | 'closed';

export const STORE_ERROR_KINDS: Readonly<Record<StoreErrorCode, ErrorKind>> = Object.freeze({
  exists: 'conflict',
  not_found: 'not_found',
  conflict: 'conflict',
  invalid_object: 'invalid',
  unseal_failed: 'locked',
  root_key_missing: 'locked',
  root_key_exists: 'conflict',
  root_key_permissions: 'denied',
  root_key_invalid: 'locked',
  root_key_unknown: 'locked',
  store_exists: 'conflict',
  store_not_empty: 'conflict',
  schema_too_new: 'unsupported',
  backup_invalid: 'invalid',
  database_error: 'unavailable',
  closed: 'unavailable',
});

export class StoreError extends CryptvisorError {
  declare readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, STORE_ERROR_KINDS[code], message, options);
  }
}
