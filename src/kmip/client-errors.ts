/**
 * Errors of the KMIP client: a closed set of codes (docs/kmip-client.md lists them).
 *
 * Transport failures (`unavailable`, `timeout`, `tls_failed`, `connection_closed`) are what make the
 * client fail over to the next server; a KMIP result other than Success is a `KmipError`, carrying
 * the Result Reason and the server's message (KmipOperationError, a KmipError of src/kmip/errors.ts),
 * and never fails over (another node of the same cluster would answer the same). Messages never
 * contain key material.
 */
import { CryptvisorError, type ErrorKind } from '../common/errors.js';
import { ResultReason } from './enums.js';
import { KmipError, KMIP_ERROR_CODES, type KmipErrorCode } from './errors.js';

export type KmipClientErrorCode =
  | 'unavailable'
  | 'timeout'
  | 'tls_failed'
  | 'connection_closed'
  | 'response_invalid'
  | 'argument_invalid'
  | 'client_closed';

interface CodeInfo {
  readonly kind: ErrorKind;
  readonly description: string;
}

export const KMIP_CLIENT_ERROR_CODES: Readonly<Record<KmipClientErrorCode, CodeInfo>> = Object.freeze({
  unavailable: {
    kind: 'unavailable',
    description: 'no server of the cluster could be reached (every one was tried)',
  },
  timeout: {
    kind: 'unavailable',
    description: 'a server did not connect or answer within timeoutMs (its socket is destroyed)',
  },
  tls_failed: {
    kind: 'unavailable',
    description: 'the TLS handshake failed (certificate, CA or cipher mismatch)',
  },
  connection_closed: {
    kind: 'unavailable',
    description: 'the server closed the connection before answering',
  },
  response_invalid: {
    kind: 'failed',
    description: 'the server answered with a message the client cannot parse or match',
  },
  argument_invalid: { kind: 'usage', description: 'the caller passed an invalid option or argument' },
  client_closed: { kind: 'failed', description: 'the client was closed' },
});

/** Codes after which the client tries the next server of the cluster. */
export const FAILOVER_CODES: ReadonlySet<KmipClientErrorCode> = new Set([
  'unavailable',
  'timeout',
  'tls_failed',
  'connection_closed',
]);

export class KmipClientError extends CryptvisorError {
  declare readonly code: KmipClientErrorCode;

  constructor(code: KmipClientErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, KMIP_CLIENT_ERROR_CODES[code].kind, message, options);
  }
}

/** The first code of the KMIP error table for each Result Reason number. */
const CODE_BY_REASON: ReadonlyMap<number, KmipErrorCode> = (() => {
  const m = new Map<number, KmipErrorCode>();
  for (const [code, info] of Object.entries(KMIP_ERROR_CODES) as [
    KmipErrorCode,
    { reason: keyof typeof ResultReason },
  ][]) {
    const n = ResultReason[info.reason];
    if (!m.has(n)) m.set(n, code);
  }
  return m;
})();

/**
 * A KMIP operation answered with a Result Status other than Success. It is a `KmipError` whose code
 * is the one for the server's Result Reason (`general_failure` when the server sent none or an
 * unknown one); it also keeps the operation, the status, the reason as sent and the server's message.
 */
export class KmipOperationError extends KmipError {
  readonly operation: string;
  readonly resultStatus: string;
  /** The Result Reason number as the server sent it (undefined when absent). */
  readonly reasonSent: number | undefined;
  readonly resultMessage: string | undefined;

  constructor(info: {
    operation: string;
    resultStatus: string;
    resultReason?: number;
    resultMessage?: string;
  }) {
    const code =
      (info.resultReason !== undefined && CODE_BY_REASON.get(info.resultReason)) || 'general_failure';
    const reasonName =
      info.resultReason === undefined
        ? 'no reason given'
        : (reasonNameOf(info.resultReason) ?? `reason 0x${info.resultReason.toString(16)}`);
    const text = info.resultMessage ? `: ${info.resultMessage.slice(0, 300)}` : '';
    super(code, `KMIP ${info.operation} failed (${info.resultStatus}, ${reasonName})${text}`);
    this.operation = info.operation;
    this.resultStatus = info.resultStatus;
    this.reasonSent = info.resultReason;
    this.resultMessage = info.resultMessage;
  }
}

function reasonNameOf(n: number): string | undefined {
  for (const [name, v] of Object.entries(ResultReason)) if (v === n) return name;
  return undefined;
}
