/**
 * Errors of the KMIP client: a closed set of codes (docs/kmip-client.md lists them).
 *
 * Transport failures (`unavailable`, `timeout`, `tls_failed`, `connection_closed`) are what make the
 * client fail over to the next server; a KMIP result other than Success is a `KmipError`, carrying
 * the Result Reason and the server's message, and never fails over (another node of the same
 * cluster would answer the same). Messages never contain key material.
 */
import { CryptvisorError, type ErrorKind } from '../common/errors.js';

export type KmipClientErrorCode =
  | 'unavailable'
  | 'timeout'
  | 'tls_failed'
  | 'connection_closed'
  | 'response_invalid'
  | 'argument_invalid'
  | 'client_closed'
  | 'operation_failed';

interface CodeInfo {
  readonly kind: ErrorKind;
  readonly description: string;
}

export const KMIP_CLIENT_ERROR_CODES: Readonly<Record<KmipClientErrorCode, CodeInfo>> = Object.freeze({
  unavailable: { kind: 'unavailable', description: 'no server of the cluster could be reached (every one was tried)' },
  timeout: { kind: 'unavailable', description: 'a server did not connect or answer within timeoutMs (its socket is destroyed)' },
  tls_failed: { kind: 'unavailable', description: 'the TLS handshake failed (certificate, CA or cipher mismatch)' },
  connection_closed: { kind: 'unavailable', description: 'the server closed the connection before answering' },
  response_invalid: { kind: 'failed', description: 'the server answered with a message the client cannot parse or match' },
  argument_invalid: { kind: 'usage', description: 'the caller passed an invalid option or argument' },
  client_closed: { kind: 'failed', description: 'the client was closed' },
  operation_failed: { kind: 'failed', description: 'the server answered with a Result Status other than Success (KmipError)' },
});

/** Codes after which the client tries the next server of the cluster. */
export const FAILOVER_CODES: ReadonlySet<KmipClientErrorCode> = new Set(['unavailable', 'timeout', 'tls_failed', 'connection_closed']);

export class KmipClientError extends CryptvisorError {
  declare readonly code: KmipClientErrorCode;

  constructor(code: KmipClientErrorCode, message: string, options?: { cause?: unknown; kind?: ErrorKind }) {
    super(code, options?.kind ?? KMIP_CLIENT_ERROR_CODES[code].kind, message, options);
  }
}

/** The kind of error each KMIP Result Reason maps to (by its name in the KMIP enumeration). */
const REASON_KINDS: Readonly<Record<string, ErrorKind>> = {
  ItemNotFound: 'not_found',
  PermissionDenied: 'denied',
  AuthenticationNotSuccessful: 'denied',
  OperationNotSupported: 'unsupported',
  FeatureNotSupported: 'unsupported',
  InvalidField: 'invalid',
  InvalidMessage: 'invalid',
  MissingData: 'invalid',
  WrongKeyLifecycleState: 'conflict',
  ObjectArchived: 'conflict',
};

/**
 * A KMIP operation answered with a Result Status other than Success. `resultReason` is the name of
 * the Result Reason (e.g. `PermissionDenied`) or undefined when the server sent none.
 */
export class KmipError extends KmipClientError {
  readonly operation: string;
  readonly resultStatus: string;
  readonly resultReason: string | undefined;
  readonly resultMessage: string | undefined;

  constructor(info: { operation: string; resultStatus: string; resultReason?: string; resultMessage?: string }) {
    const reason = info.resultReason ?? 'no reason given';
    const text = info.resultMessage ? `: ${info.resultMessage.slice(0, 300)}` : '';
    super('operation_failed', `KMIP ${info.operation} failed (${info.resultStatus}, ${reason})${text}`, {
      kind: (info.resultReason && REASON_KINDS[info.resultReason]) || 'failed',
    });
    this.operation = info.operation;
    this.resultStatus = info.resultStatus;
    this.resultReason = info.resultReason;
    this.resultMessage = info.resultMessage;
  }
}
