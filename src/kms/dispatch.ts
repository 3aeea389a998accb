import {
  BatchErrorContinuationOption,
  KmipError,
  ResultStatus,
  Tag,
  decodeTtlv,
  encodeResponseMessage,
  encodeTtlv,
  encodedLength,
  failureItem,
  parseRequestMessage,
  requestContext,
  successItem,
  type RequestBatchItem,
  type RequestMessage,
  type ResponseBatchItem,
  type StructureItem,
  type TtlvItem,
} from '../kmip/index.js';
import type { Logger } from '../common/logging.js';
import { clippedAuditRecord } from './audit.js';
import type { Identity } from './identity.js';
import type { ProtocolVersion } from './lifecycle.js';
import type { KmsMetrics } from './metrics.js';
import { enumName } from './kmip-values.js';
import { OPERATIONS } from './operations/index.js';
import type { OpContext, ServerInfo } from './operations/context.js';
import { ObjectRepo } from './repo.js';
import type { AuditRecord, KmsStore } from './store/types.js';

/**
 * The dispatcher: one request message in, one response message out, never a throw. Messages are
 * read and written by the KMIP library (src/kmip/messages.ts: parseRequestMessage,
 * encodeResponseMessage); this file adds what a server decides:
 * - The response header carries exactly ProtocolVersion (the client's, clamped to one we speak),
 *   TimeStamp, BatchCount.
 * - Batch items run in order; Unique Batch Item IDs are echoed; the ID Placeholder carries the
 *   id one item produced to the next; Batch Error Continuation: Stop (default) leaves the items
 *   after a failure out, Continue runs them all, Undo holds every write until all succeeded and
 *   else reports the earlier items as Operation Undone.
 * - Malformed messages get an Invalid Message (or Invalid Field) response.
 */
export const SUPPORTED_VERSIONS: readonly ProtocolVersion[] = [
  { major: 2, minor: 1 },
  { major: 2, minor: 0 },
  { major: 1, minor: 4 },
  { major: 1, minor: 3 },
  { major: 1, minor: 2 },
  { major: 1, minor: 1 },
  { major: 1, minor: 0 },
];

/** The version used to answer a message whose own version could not be read. */
export const FALLBACK_VERSION: ProtocolVersion = { major: 1, minor: 0 };

/** Where each batch item's audit record goes (src/kms/audit.ts's AuditLog). */
export interface AuditSink {
  append(rec: AuditRecord): void;
  flush(): Promise<void>;
}

export interface DispatcherDeps {
  readonly store: KmsStore;
  readonly audit: AuditSink;
  readonly metrics: KmsMetrics;
  readonly logger: Logger;
  readonly server: ServerInfo;
  readonly limits: { readonly maxMessageBytes: number; readonly maxDepth: number };
}

const nowSeconds = (): bigint => BigInt(Math.floor(Date.now() / 1000));

export class Dispatcher {
  constructor(private readonly deps: DispatcherDeps) {}

  /** Binary TTLV in, binary TTLV out. */
  async handleBytes(message: Uint8Array, identity: Identity): Promise<Buffer> {
    let item: TtlvItem;
    try {
      item = decodeTtlv(message, this.deps.limits);
    } catch (err) {
      return encodeTtlv(this.messageError(FALLBACK_VERSION, err));
    }
    return encodeTtlv(await this.handleItem(item, identity));
  }

  /** A decoded request message in, a response message out (for HTTPS with JSON/XML too). */
  async handleItem(item: TtlvItem, identity: Identity): Promise<StructureItem> {
    let req: RequestMessage;
    try {
      req = parseRequestMessage(item);
    } catch (err) {
      const seen = requestContext(item).version;
      return this.messageError(seen ? clampVersion(seen) : FALLBACK_VERSION, err);
    }
    const version = clampVersion(req.header.protocolVersion);
    try {
      return await this.run(req, version, identity);
    } catch (err) {
      this.deps.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'request failed');
      return this.messageError(version, new KmipError('general_failure', 'the request could not be processed'));
    }
  }

  /** The answer to input that is not a request message at all. */
  messageError(version: ProtocolVersion, err: unknown): StructureItem {
    const k = err instanceof KmipError ? err : new KmipError('invalid_message', 'the message could not be read');
    const reasonErr = k.code === 'invalid_field' || k.code === 'invalid_message' ? k : new KmipError('invalid_message', k.message);
    return responseMessage(version, [failureItem({}, reasonErr)]);
  }

  private async run(req: RequestMessage, version: ProtocolVersion, identity: Identity): Promise<StructureItem> {
    const now = nowSeconds();
    const continuation = req.header.batchErrorContinuationOption ?? BatchErrorContinuationOption.Stop;
    const undo = continuation === BatchErrorContinuationOption.Undo;
    const v21 = version.major > 2 || (version.major === 2 && version.minor >= 1);
    const repo = new ObjectRepo(this.deps.store, identity, now, undo, v21 ? 'object_not_found' : 'item_not_found');
    const ctx: OpContext = { version, identity, now, repo, server: this.deps.server, idPlaceholder: undefined };
    const out: ResponseBatchItem[] = [];
    let durable = false;
    let failed = false;
    for (const it of req.batchItems) {
      const started = process.hrtime.bigint();
      const opName = enumName(Tag.Operation, it.operation) ?? 'Unknown';
      const op = OPERATIONS.get(opName);
      const echo = echoOf(it, opName);
      ctx.objectId = undefined;
      repo.carryAudit(op?.auditWithWrite ? clippedAuditRecord({ identity: identity.subject, operation: opName, result: 'Success' }) : undefined);
      let answer: ResponseBatchItem;
      try {
        if (it.problem) throw it.problem;
        if (!op) throw new KmipError('operation_not_supported', `the KMS does not support ${opName}`);
        answer = successItem(it, await op.run(it.payload, ctx));
        // A record that rode with the item's write is durable already: no audit flush for it.
        if (repo.auditCarried) this.measure(opName, 'Success', started);
        else {
          this.record(identity, opName, ctx.objectId, 'Success', undefined, started);
          if (op.durableAudit) durable = true;
        }
      } catch (err) {
        const k = err instanceof KmipError ? err : internal(err, this.deps.logger);
        answer = failureItem(echo, k);
        const reason = enumName(Tag.ResultReason, answer.resultReason ?? 0) ?? 'GeneralFailure';
        this.record(identity, opName, ctx.objectId, 'OperationFailed', reason, started);
        if (op?.durableAudit) durable = true;
        failed = true;
      }
      out.push(answer);
      if (failed && continuation !== BatchErrorContinuationOption.Continue) break;
    }
    if (undo) {
      if (failed) {
        repo.discard();
        for (let i = 0; i < out.length - 1; i++) out[i] = { ...(out[i] as ResponseBatchItem), resultStatus: ResultStatus.OperationUndone };
      } else await repo.commit();
    }
    if (durable) await this.deps.audit.flush();
    let response = responseMessage(version, out);
    const max = req.header.maximumResponseSize;
    if (max !== undefined && encodedLength(response) > max) {
      const tooLarge = new KmipError('response_too_large', 'the response exceeds the Maximum Response Size');
      response = responseMessage(
        version,
        req.batchItems.slice(0, out.length).map((it) => failureItem(echoOf(it, enumName(Tag.Operation, it.operation)), tooLarge)),
      );
    }
    return response;
  }

  private measure(operation: string, result: string, started: bigint): void {
    this.deps.metrics.operation(operation, result, Number(process.hrtime.bigint() - started) / 1e9);
  }

  private record(identity: Identity, operation: string, objectId: string | undefined, result: string, reason: string | undefined, started: bigint): void {
    this.measure(operation, result, started);
    this.deps.audit.append({
      identity: identity.subject,
      operation,
      ...(objectId !== undefined ? { objectId } : {}),
      result,
      ...(reason !== undefined ? { reason } : {}),
    });
  }
}

/** What a response item echoes: the Operation (only a known one) and the Unique Batch Item ID. */
function echoOf(it: RequestBatchItem, opName: string | undefined): Pick<RequestBatchItem, 'uniqueBatchItemId'> & { operation?: number } {
  return {
    ...(opName !== undefined && opName !== 'Unknown' ? { operation: it.operation } : {}),
    ...(it.uniqueBatchItemId !== undefined ? { uniqueBatchItemId: it.uniqueBatchItemId } : {}),
  };
}

function internal(err: unknown, logger: Logger): KmipError {
  logger.error({ err: err instanceof Error ? err.message : String(err) }, 'operation failed unexpectedly');
  return new KmipError('general_failure', 'the operation failed on the server');
}

/** A version the server speaks: the client's if supported, else the nearest below it. */
export function clampVersion(v: ProtocolVersion): ProtocolVersion {
  for (const s of SUPPORTED_VERSIONS) if (s.major < v.major || (s.major === v.major && s.minor <= v.minor)) return s;
  return FALLBACK_VERSION;
}

function responseMessage(version: ProtocolVersion, items: readonly ResponseBatchItem[]): StructureItem {
  return encodeResponseMessage({ header: { protocolVersion: version, timeStamp: nowSeconds() }, batchItems: items });
}
