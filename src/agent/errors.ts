import { CryptvisorError, type ErrorKind } from '../common/errors.js';

export type AgentErrorCode =
  | 'not_enrolled'
  | 'already_enrolled'
  | 'enrollment_invalid'
  | 'not_authorized'
  | 'invalid_request'
  | 'body_too_large'
  | 'route_not_found'
  | 'vm_not_found'
  | 'vm_exists'
  | 'vm_locked'
  | 'vm_power_state'
  | 'vm_registered_elsewhere'
  | 'disk_in_use'
  | 'key_missing'
  | 'host_key_missing'
  | 'datastore_invalid'
  | 'vm_runtime_failed'
  | 'not_supported';

const KINDS: Readonly<Record<AgentErrorCode, ErrorKind>> = {
  not_enrolled: 'denied',
  already_enrolled: 'conflict',
  enrollment_invalid: 'denied',
  not_authorized: 'denied',
  invalid_request: 'invalid',
  body_too_large: 'invalid',
  route_not_found: 'not_found',
  vm_not_found: 'not_found',
  vm_exists: 'conflict',
  vm_locked: 'locked',
  vm_power_state: 'conflict',
  vm_registered_elsewhere: 'conflict',
  disk_in_use: 'conflict',
  key_missing: 'locked',
  host_key_missing: 'locked',
  datastore_invalid: 'invalid',
  vm_runtime_failed: 'failed',
  not_supported: 'unsupported',
};

/** Errors of the host agent; the kind decides the HTTP status of the agent API. */
export class AgentError extends CryptvisorError {
  constructor(code: AgentErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, KINDS[code], message, options);
  }
}

export const AGENT_ERROR_CODES = Object.keys(KINDS) as AgentErrorCode[];

/** A VM name from a route's path segment; a malformed escape is the caller's error, not ours. */
export function decodeName(p: string | undefined): string {
  try {
    return decodeURIComponent(p ?? '');
  } catch {
    throw new AgentError('invalid_request', 'malformed path');
  }
}
