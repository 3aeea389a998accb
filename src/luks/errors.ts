/**
 * Errors of src/luks: one class, a closed set of codes. Every code is listed in LUKS_ERROR_CODES
 * and documented in docs/luks.md (a test checks both).
 */
import { CryptvisorError } from '../common/errors.js';
import type { ErrorKind } from '../common/errors.js';

const KINDS = {
  /** Neither the primary nor the secondary binary header starts with the LUKS2 magic. */
  bad_magic: 'invalid',
  /** The header's version is not 2, or its hdr_size / hdr_offset / string fields are impossible. */
  bad_header: 'invalid',
  /** The stored checksum does not match the header area. */
  bad_checksum: 'invalid',
  /** Both copies are valid, carry the same seqid, and differ. */
  copies_disagree: 'invalid',
  /** The JSON area does not fit (json_size limits, or the JSON is deeper than we accept). */
  json_too_large: 'invalid',
  /** The JSON area is not valid JSON text, or not an object. */
  json_invalid: 'invalid',
  /** The JSON violates the LUKS2 schema (missing or mistyped fields, unknown types, misaligned offsets). */
  schema_invalid: 'invalid',
  /** A keyslot area overlaps another one, the metadata, or the data segment. */
  area_overlap: 'invalid',
  /** A segment (or the data offset) runs past the end of the file. */
  segment_out_of_bounds: 'invalid',
  /** The image is shorter than its own header claims. */
  truncated: 'invalid',
  /** A volume key or passphrase argument is malformed (wrong length, equal XTS halves). */
  key_invalid: 'invalid',
  /** The volume key does not match the header's digest. */
  key_mismatch: 'denied',
  /** No keyslot opens with this passphrase. */
  passphrase_mismatch: 'denied',
  /** The named keyslot does not exist. */
  keyslot_not_found: 'not_found',
  /** No free keyslot number or no room left in the keyslots area. */
  keyslots_full: 'conflict',
  /** A valid LUKS2 feature this implementation does not handle (argon2 kdf, other ciphers, reencryption). */
  not_supported: 'unsupported',
  /** formatLuks2 was asked to create an image over an existing file. */
  image_exists: 'conflict',
  /** Reading or writing the image failed. */
  io_failed: 'failed',
} as const satisfies Record<string, ErrorKind>;

export type LuksErrorCode = keyof typeof KINDS;

/** Every code, for tests and docs. */
export const LUKS_ERROR_CODES: readonly LuksErrorCode[] = Object.freeze(
  Object.keys(KINDS) as LuksErrorCode[],
);

export class LuksError extends CryptvisorError {
  declare readonly code: LuksErrorCode;

  constructor(code: LuksErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, KINDS[code], message, options);
  }
}
