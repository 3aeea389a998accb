/**
 * Errors of src/crypto: one class with a closed set of codes (see docs/crypto.md).
 *
 * A failed unwrap or a failed sealed-file check always carries the same code and message,
 * whatever failed inside, so a peer learns nothing from the difference.
 */
import { CryptvisorError, type ErrorKind } from '../common/errors.js';

export type CryptoErrorCode =
  | 'key_invalid'
  | 'key_disposed'
  | 'length_invalid'
  | 'argument_invalid'
  | 'unwrap_failed'
  | 'sealed_invalid'
  | 'sealed_state'
  | 'engine_failed';

interface CodeInfo {
  readonly kind: ErrorKind;
  readonly description: string;
}

/** Every code, its kind and what it means; docs/crypto.md lists the same table. */
export const CRYPTO_ERROR_CODES: Readonly<Record<CryptoErrorCode, CodeInfo>> = Object.freeze({
  key_invalid: { kind: 'invalid', description: 'a key has the wrong length or is weak (XTS halves equal)' },
  key_disposed: { kind: 'failed', description: 'a SecretBytes or key was used after dispose()' },
  length_invalid: { kind: 'invalid', description: 'data length does not fit the operation (sector or block size)' },
  argument_invalid: { kind: 'invalid', description: 'a parameter is out of range (sector size, tweak, context field)' },
  unwrap_failed: { kind: 'denied', description: 'a wrapped key did not unwrap (wrong key, wrong place, or damaged)' },
  sealed_invalid: { kind: 'invalid', description: 'a sealed file failed its checks (wrong key, truncated, reordered, spliced or damaged)' },
  sealed_state: { kind: 'failed', description: 'a sealed writer or reader was used out of order (after finish or abort)' },
  engine_failed: { kind: 'failed', description: 'the cipher engine (OpenSSL) reported an error' },
});

export class CryptoError extends CryptvisorError {
  constructor(code: CryptoErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, CRYPTO_ERROR_CODES[code].kind, message, options);
  }
}

/** The one message of a failed unwrap. */
export const UNWRAP_FAILED_MESSAGE = 'the wrapped key could not be unwrapped';
/** The one message of a sealed file that failed its checks. */
export const SEALED_INVALID_MESSAGE = 'the sealed file failed authentication';
