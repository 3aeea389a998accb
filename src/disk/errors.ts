import { CryptvisorError, type ErrorKind } from '../common/errors.js';

export type DiskErrorCode =
  | 'conversion_unfinished'
  | 'conversion_mismatch'
  | 'journal_corrupt'
  | 'image_invalid'
  | 'image_exists'
  | 'image_not_found'
  | 'key_file_invalid'
  | 'key_file_permissions'
  | 'wrong_key';

const KINDS: Readonly<Record<DiskErrorCode, ErrorKind>> = {
  conversion_unfinished: 'conflict',
  conversion_mismatch: 'conflict',
  journal_corrupt: 'failed',
  image_invalid: 'invalid',
  image_exists: 'conflict',
  image_not_found: 'not_found',
  key_file_invalid: 'usage',
  key_file_permissions: 'denied',
  wrong_key: 'locked',
};

/** Errors of disk images and their in-place conversions. */
export class DiskError extends CryptvisorError {
  constructor(code: DiskErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, KINDS[code], message, options);
  }
}

export const DISK_ERROR_CODES = Object.keys(KINDS) as DiskErrorCode[];
