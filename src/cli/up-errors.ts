import { CryptvisorError, type ErrorKind } from '../common/errors.js';

/** Errors of `cryptvisor up | down | status | demo` (docs/up.md). */
export type UpErrorCode =
  'already_up' | 'not_up' | 'state_invalid' | 'start_failed' | 'setup_failed' | 'demo_failed';

const UP_KINDS: Readonly<Record<UpErrorCode, ErrorKind>> = {
  already_up: 'conflict',
  not_up: 'failed',
  state_invalid: 'invalid',
  start_failed: 'failed',
  setup_failed: 'failed',
  demo_failed: 'failed',
};

export class UpError extends CryptvisorError {
  constructor(code: UpErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, UP_KINDS[code], message, options);
  }
}
