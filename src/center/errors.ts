import { CryptvisorError, type ErrorKind } from '../common/errors.js';

/** The closed set of center's error codes; each maps to one kind (and so to an HTTP status and exit code). */
export type CenterErrorCode =
  | 'invalid_request'
  | 'body_too_large'
  | 'route_not_found'
  | 'method_not_allowed'
  | 'not_authenticated'
  | 'login_failed'
  | 'permission_denied'
  | 'user_not_found'
  | 'user_exists'
  | 'token_not_found'
  | 'last_administrator'
  | 'store_invalid'
  | 'schema_too_new'
  | 'center_not_initialized'
  | 'center_exists'
  | 'not_logged_in'
  | 'center_unreachable'
  | 'provider_not_found'
  | 'provider_exists'
  | 'provider_invalid'
  | 'host_not_found'
  | 'host_exists'
  | 'host_unreachable'
  | 'vm_not_found'
  | 'vm_exists'
  | 'policy_not_found'
  | 'policy_exists'
  | 'policy_read_only'
  | 'key_not_found'
  | 'audit_broken'
  | 'task_not_found'
  | 'task_not_cancellable'
  | 'vm_power_state'
  | 'vm_crypto_state'
  | 'key_shared';

export const CENTER_ERROR_KINDS: Readonly<Record<CenterErrorCode, ErrorKind>> = Object.freeze({
  invalid_request: 'invalid',
  body_too_large: 'invalid',
  route_not_found: 'not_found',
  method_not_allowed: 'invalid',
  not_authenticated: 'denied',
  login_failed: 'denied',
  permission_denied: 'denied',
  user_not_found: 'not_found',
  user_exists: 'conflict',
  token_not_found: 'not_found',
  last_administrator: 'conflict',
  store_invalid: 'failed',
  schema_too_new: 'failed',
  center_not_initialized: 'not_found',
  center_exists: 'conflict',
  not_logged_in: 'denied',
  center_unreachable: 'unavailable',
  provider_not_found: 'not_found',
  provider_exists: 'conflict',
  provider_invalid: 'invalid',
  host_not_found: 'not_found',
  host_exists: 'conflict',
  host_unreachable: 'unavailable',
  vm_not_found: 'not_found',
  vm_exists: 'conflict',
  policy_not_found: 'not_found',
  policy_exists: 'conflict',
  policy_read_only: 'conflict',
  key_not_found: 'not_found',
  audit_broken: 'failed',
  task_not_found: 'not_found',
  task_not_cancellable: 'conflict',
  vm_power_state: 'conflict',
  vm_crypto_state: 'conflict',
  key_shared: 'conflict',
});

export class CenterError extends CryptvisorError {
  constructor(code: CenterErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, CENTER_ERROR_KINDS[code], message, options);
  }
}

const KIND_BY_STATUS: Readonly<Record<number, ErrorKind>> = {
  400: 'invalid',
  403: 'denied',
  404: 'not_found',
  409: 'conflict',
  423: 'locked',
  501: 'unsupported',
  503: 'unavailable',
};

/** An error center returned to a client: its code and message as sent, its kind from the HTTP status. */
export class CenterRemoteError extends CryptvisorError {
  constructor(code: string, status: number, message: string) {
    super(code, code === 'usage' ? 'usage' : (KIND_BY_STATUS[status] ?? 'failed'), message);
  }
}
