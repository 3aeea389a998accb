/**
 * Errors of src/nbd: the block devices and the NBD server. One table gives each code its kind
 * (CLI exit code / HTTP status) and the NBD error value a client sees when a request fails with it.
 */
import { CryptvisorError, type ErrorKind } from '../common/errors.js';
import { NBD_ERRNO, type NbdErrno } from './protocol.js';

export type NbdErrorCode =
  | 'invalid_request'
  | 'unaligned'
  | 'out_of_range'
  | 'no_space'
  | 'read_only'
  | 'too_large'
  | 'io'
  | 'not_supported'
  | 'closed'
  | 'protocol'
  | 'tls_required'
  | 'config_invalid'
  | 'listen_failed';

interface CodeInfo {
  readonly kind: ErrorKind;
  /** What a client sees when a request fails with this code. */
  readonly errno: NbdErrno;
}

export const NBD_ERROR_CODES: Readonly<Record<NbdErrorCode, CodeInfo>> = Object.freeze({
  invalid_request: { kind: 'invalid', errno: NBD_ERRNO.EINVAL },
  unaligned: { kind: 'invalid', errno: NBD_ERRNO.EINVAL },
  out_of_range: { kind: 'invalid', errno: NBD_ERRNO.EINVAL },
  no_space: { kind: 'failed', errno: NBD_ERRNO.ENOSPC },
  read_only: { kind: 'denied', errno: NBD_ERRNO.EPERM },
  too_large: { kind: 'invalid', errno: NBD_ERRNO.EOVERFLOW },
  io: { kind: 'failed', errno: NBD_ERRNO.EIO },
  not_supported: { kind: 'unsupported', errno: NBD_ERRNO.ENOTSUP },
  closed: { kind: 'unavailable', errno: NBD_ERRNO.ESHUTDOWN },
  protocol: { kind: 'invalid', errno: NBD_ERRNO.EINVAL },
  tls_required: { kind: 'denied', errno: NBD_ERRNO.EPERM },
  config_invalid: { kind: 'usage', errno: NBD_ERRNO.EINVAL },
  listen_failed: { kind: 'failed', errno: NBD_ERRNO.EIO },
});

export class NbdError extends CryptvisorError {
  constructor(code: NbdErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, NBD_ERROR_CODES[code].kind, message, options);
  }
}

/** Operating-system error codes that mean "no space", "not permitted" or "not supported". */
const OS_ERRNO: Readonly<Record<string, NbdErrno>> = {
  ENOSPC: NBD_ERRNO.ENOSPC,
  EDQUOT: NBD_ERRNO.ENOSPC,
  EFBIG: NBD_ERRNO.ENOSPC,
  EROFS: NBD_ERRNO.EPERM,
  EPERM: NBD_ERRNO.EPERM,
  EACCES: NBD_ERRNO.EPERM,
  EOPNOTSUPP: NBD_ERRNO.ENOTSUP,
  ENOTSUP: NBD_ERRNO.ENOTSUP,
};

/** The NBD error value for anything a device threw: our codes by table, OS errors by name, else EIO. */
export function errnoOf(err: unknown): NbdErrno {
  if (err instanceof NbdError) return NBD_ERROR_CODES[err.code as NbdErrorCode].errno;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return OS_ERRNO[code] ?? NBD_ERRNO.EIO;
  return NBD_ERRNO.EIO;
}
