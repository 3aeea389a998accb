/**
 * The error model shared by every module.
 *
 * Each module defines its own subclass with a closed set of codes; every code belongs to one
 * kind, and the kind alone decides the CLI exit code and the HTTP status (DESIGN.md §10). The
 * public message is separate from the internal cause, which is never shown to a peer.
 */

export type ErrorKind =
  | 'usage'
  | 'invalid'
  | 'not_found'
  | 'denied'
  | 'locked'
  | 'conflict'
  | 'unavailable'
  | 'unsupported'
  | 'failed';

/** Exit codes of the `cryptvisor` command: 0 ok, 1 failed, 2 usage, 3 not found, 4 denied, 5 locked. */
export const EXIT = { ok: 0, failed: 1, usage: 2, notFound: 3, denied: 4, locked: 5 } as const;

interface KindInfo {
  readonly exit: number;
  readonly http: number;
}

export const ERROR_KINDS: Readonly<Record<ErrorKind, KindInfo>> = Object.freeze({
  usage: { exit: EXIT.usage, http: 400 },
  invalid: { exit: EXIT.failed, http: 400 },
  not_found: { exit: EXIT.notFound, http: 404 },
  denied: { exit: EXIT.denied, http: 403 },
  locked: { exit: EXIT.locked, http: 423 },
  conflict: { exit: EXIT.failed, http: 409 },
  unavailable: { exit: EXIT.locked, http: 503 },
  unsupported: { exit: EXIT.failed, http: 501 },
  failed: { exit: EXIT.failed, http: 500 },
});

export class CryptvisorError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;

  constructor(code: string, kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.kind = kind;
  }

  get exitCode(): number {
    return ERROR_KINDS[this.kind].exit;
  }

  get httpStatus(): number {
    return ERROR_KINDS[this.kind].http;
  }

  /** The public form: code and message, never the cause. */
  toJSON(): { code: string; message: string } {
    return { code: this.code, message: this.message };
  }
}

/** Errors of src/common itself (config, size, PKI). */
export type CommonErrorCode =
  | 'usage'
  | 'config_invalid'
  | 'size_invalid'
  | 'file_not_found'
  | 'file_exists'
  | 'file_permissions'
  | 'pki_invalid'
  | 'not_supported'
  | 'internal';

const COMMON_KINDS: Readonly<Record<CommonErrorCode, ErrorKind>> = {
  usage: 'usage',
  config_invalid: 'invalid',
  size_invalid: 'usage',
  file_not_found: 'not_found',
  file_exists: 'conflict',
  file_permissions: 'denied',
  pki_invalid: 'invalid',
  not_supported: 'unsupported',
  internal: 'failed',
};

export class CommonError extends CryptvisorError {
  constructor(code: CommonErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, COMMON_KINDS[code], message, options);
  }
}

/** Wraps anything thrown into a CryptvisorError without leaking its message to a peer. */
export function toCryptvisorError(err: unknown): CryptvisorError {
  if (err instanceof CryptvisorError) return err;
  return new CommonError('internal', 'internal error', { cause: err });
}
