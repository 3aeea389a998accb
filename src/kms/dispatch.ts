import {
  BatchErrorContinuationOption,
  KmipError,
  ResultStatus,
  Tag,
  asEnum,
  asInt,
  asStruct,
  bytes as bytesItem,
  dateTime,
  decodeTtlv,
  encodeTtlv,
  encodedLength,
  enumItem,
  int,
  resultReasonOf,
  struct,
  tagName,
  text,
  type StructureItem,
  type TtlvItem,
} from '../kmip/index.js';
import type { Logger } from '../common/logging.js';
import type { Identity } from './identity.js';
import type { ProtocolVersion } from './lifecycle.js';
import type { KmsMetrics } from './metrics.js';
import { enumName } from './kmip-values.js';
import { OPERATIONS } from './operations/index.js';
import type { OpContext, ServerInfo } from './operations/context.js';
import { ObjectRepo } from './repo.js';
import type { AuditRecord, KmsStore } from './store/types.js';

/**
 * The dispatcher: one request message in, one response message out, never a throw.
 * - The response header carries exactly ProtocolVersion (the client's), TimeStamp, BatchCount.
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

interface ParsedItem {
  readonly operation: number | undefined;
  readonly batchId: Uint8Array | undefined;
  readonly payload: TtlvItem | undefined;
  /** A problem found while parsing this item; it is answered as a failed item. */
  readonly problem?: KmipError;
}

interface ParsedRequest {
  readonly version: ProtocolVersion;
  readonly continuation: number;
  readonly maxResponseSize: number | undefined;
  readonly items: ParsedItem[];
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
  async handleItem(item: TtlvItem, identity: Identity): Promise<TtlvItem> {
    let req: ParsedRequest;
    try {
      req = parseRequest(item);
    } catch (err) {
      return this.messageError(versionHint(item) ?? FALLBACK_VERSION, err);
    }
    try {
      return await this.run(req, identity);
    } catch (err) {
      this.deps.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'request failed');
      return this.messageError(req.version, new KmipError('general_failure', 'the request could not be processed'));
    }
  }

  /** The answer to input that is not a request message at all. */
  messageError(version: ProtocolVersion, err: unknown): StructureItem {
    const k = err instanceof KmipError ? err : new KmipError('invalid_message', 'the message could not be read');
    const reasonErr = k.code === 'invalid_field' || k.code === 'invalid_message' ? k : new KmipError('invalid_message', k.message);
    return responseMessage(version, [failedItem(undefined, undefined, reasonErr)]);
  }

  private async run(req: ParsedRequest, identity: Identity): Promise<StructureItem> {
    const now = nowSeconds();
    const undo = req.continuation === BatchErrorContinuationOption.Undo;
    const v21 = req.version.major > 2 || (req.version.major === 2 && req.version.minor >= 1);
    const repo = new ObjectRepo(this.deps.store, identity, now, undo, v21 ? 'object_not_found' : 'item_not_found');
    const ctx: OpContext = { version: req.version, identity, now, repo, server: this.deps.server, idPlaceholder: undefined };
    const out: TtlvItem[] = [];
    let durable = false;
    let failed = false;
    for (const it of req.items) {
      const started = process.hrtime.bigint();
      const opName = it.operation === undefined ? 'Unknown' : (enumName(Tag.Operation, it.operation) ?? 'Unknown');
      const op = OPERATIONS.get(opName);
      ctx.objectId = undefined;
      let answer: TtlvItem;
      try {
        if (it.problem) throw it.problem;
        if (!op || it.payload === undefined) {
          if (!op) throw new KmipError('operation_not_supported', `the KMS does not support ${opName}`);
          throw new KmipError('invalid_field', `${opName}: missing RequestPayload`);
        }
        const result = await op.run(it.payload, ctx);
        answer = okItem(it.operation, it.batchId, result);
        this.record(identity, opName, ctx.objectId, 'Success', undefined, started);
        if (op.durableAudit) durable = true;
      } catch (err) {
        const k = err instanceof KmipError ? err : internal(err, this.deps.logger);
        answer = failedItem(it.operation, it.batchId, k);
        const reason = enumName(Tag.ResultReason, k.resultReason) ?? 'GeneralFailure';
        this.record(identity, opName, ctx.objectId, 'OperationFailed', reason, started);
        if (op?.durableAudit) durable = true;
        failed = true;
      }
      out.push(answer);
      if (failed && req.continuation !== BatchErrorContinuationOption.Continue) break;
    }
    if (undo) {
      if (failed) {
        repo.discard();
        for (let i = 0; i < out.length - 1; i++) out[i] = markUndone(out[i] as StructureItem);
      } else await repo.commit();
    }
    if (durable) await this.deps.audit.flush();
    let response = responseMessage(req.version, out);
    if (req.maxResponseSize !== undefined && encodedLength(response) > req.maxResponseSize) {
      const tooLarge = new KmipError('response_too_large', 'the response exceeds the Maximum Response Size');
      response = responseMessage(
        req.version,
        req.items.slice(0, out.length).map((it) => failedItem(it.operation, it.batchId, tooLarge)),
      );
    }
    return response;
  }

  private record(identity: Identity, operation: string, objectId: string | undefined, result: string, reason: string | undefined, started: bigint): void {
    this.deps.metrics.operation(operation, result, Number(process.hrtime.bigint() - started) / 1e9);
    this.deps.audit.append({
      identity: identity.subject,
      operation,
      ...(objectId !== undefined ? { objectId } : {}),
      result,
      ...(reason !== undefined ? { reason } : {}),
    });
  }
}

function internal(err: unknown, logger: Logger): KmipError {
  logger.error({ err: err instanceof Error ? err.message : String(err) }, 'operation failed unexpectedly');
  return new KmipError('general_failure', 'the operation failed on the server');
}

/** Reads ProtocolVersion from a message that failed to parse further, to answer in it. */
function versionHint(item: TtlvItem): ProtocolVersion | undefined {
  try {
    const header = item.type === 'Structure' ? item.value.find((c) => c.tag === Tag.RequestHeader) : undefined;
    return header ? readVersion(header) : undefined;
  } catch {
    return undefined;
  }
}

function readVersion(header: TtlvItem): ProtocolVersion {
  const pv = asStruct(header).value.find((c) => c.tag === Tag.ProtocolVersion);
  if (!pv) throw new KmipError('invalid_message', 'RequestHeader: missing ProtocolVersion');
  const major = pv.type === 'Structure' ? pv.value.find((c) => c.tag === Tag.ProtocolVersionMajor) : undefined;
  const minor = pv.type === 'Structure' ? pv.value.find((c) => c.tag === Tag.ProtocolVersionMinor) : undefined;
  if (!major || !minor) throw new KmipError('invalid_message', 'ProtocolVersion: missing major or minor');
  return clampVersion({ major: asInt(major), minor: asInt(minor) });
}

/** A version the server speaks: the client's if supported, else the nearest below it. */
export function clampVersion(v: ProtocolVersion): ProtocolVersion {
  for (const s of SUPPORTED_VERSIONS) if (s.major < v.major || (s.major === v.major && s.minor <= v.minor)) return s;
  return FALLBACK_VERSION;
}

export function parseRequest(item: TtlvItem): ParsedRequest {
  if (item.tag !== Tag.RequestMessage || item.type !== 'Structure') {
    throw new KmipError('invalid_message', 'expected a RequestMessage structure');
  }
  const [header, ...rest] = item.value;
  if (!header || header.tag !== Tag.RequestHeader) throw new KmipError('invalid_message', 'RequestMessage: RequestHeader must come first');
  const version = readVersion(header);
  let continuation: number = BatchErrorContinuationOption.Stop;
  let maxResponseSize: number | undefined;
  let batchCount: number | undefined;
  for (const h of asStruct(header).value) {
    switch (h.tag) {
      case Tag.BatchErrorContinuationOption:
        continuation = asEnum(h);
        if (!Object.values(BatchErrorContinuationOption).includes(continuation as never)) {
          throw new KmipError('invalid_field', 'unknown BatchErrorContinuationOption');
        }
        break;
      case Tag.MaximumResponseSize:
        maxResponseSize = asInt(h);
        break;
      case Tag.BatchCount:
        batchCount = asInt(h);
        break;
      default:
        break;
    }
  }
  if (batchCount === undefined) throw new KmipError('invalid_message', 'RequestHeader: missing BatchCount');
  const items: ParsedItem[] = [];
  for (const b of rest) {
    if (b.tag !== Tag.BatchItem || b.type !== 'Structure') {
      throw new KmipError('invalid_message', `RequestMessage: unexpected ${tagName(b.tag)} after the header`);
    }
    items.push(parseItem(b));
  }
  if (items.length === 0) throw new KmipError('invalid_message', 'RequestMessage: no BatchItem');
  if (items.length !== batchCount) throw new KmipError('invalid_message', 'BatchCount does not match the batch items');
  return { version, continuation, maxResponseSize, items };
}

function parseItem(b: StructureItem): ParsedItem {
  let operation: number | undefined;
  let batchId: Uint8Array | undefined;
  let payload: TtlvItem | undefined;
  let problem: KmipError | undefined;
  b.value.forEach((c, i) => {
    try {
      switch (c.tag) {
        case Tag.Operation:
          if (i !== 0) throw new KmipError('invalid_message', 'BatchItem: Operation must come first');
          operation = asEnum(c);
          break;
        case Tag.UniqueBatchItemID:
          if (c.type !== 'ByteString') throw new KmipError('invalid_field', 'UniqueBatchItemID must be a ByteString');
          batchId = c.value;
          break;
        case Tag.RequestPayload:
          if (c.type !== 'Structure') throw new KmipError('invalid_field', 'RequestPayload must be a Structure');
          payload = c;
          break;
        case Tag.MessageExtension:
          break;
        default:
          throw new KmipError('invalid_message', `BatchItem: unexpected ${tagName(c.tag)}`);
      }
    } catch (err) {
      problem ??= err as KmipError;
    }
  });
  if (operation === undefined) problem ??= new KmipError('invalid_message', 'BatchItem: missing Operation');
  return { operation, batchId, payload, ...(problem ? { problem } : {}) };
}

function responseMessage(version: ProtocolVersion, items: TtlvItem[]): StructureItem {
  return struct(Tag.ResponseMessage, [
    struct(Tag.ResponseHeader, [
      struct(Tag.ProtocolVersion, [int(Tag.ProtocolVersionMajor, version.major), int(Tag.ProtocolVersionMinor, version.minor)]),
      dateTime(Tag.TimeStamp, nowSeconds()),
      int(Tag.BatchCount, items.length),
    ]),
    ...items,
  ]);
}

function head(operation: number | undefined, batchId: Uint8Array | undefined): TtlvItem[] {
  const out: TtlvItem[] = [];
  if (operation !== undefined && enumName(Tag.Operation, operation) !== undefined) out.push(enumItem(Tag.Operation, operation));
  if (batchId !== undefined) out.push(bytesItem(Tag.UniqueBatchItemID, batchId));
  return out;
}

function okItem(operation: number | undefined, batchId: Uint8Array | undefined, payload: TtlvItem[]): StructureItem {
  return struct(Tag.BatchItem, [
    ...head(operation, batchId),
    enumItem(Tag.ResultStatus, ResultStatus.Success),
    struct(Tag.ResponsePayload, payload),
  ]);
}

function failedItem(operation: number | undefined, batchId: Uint8Array | undefined, err: KmipError): StructureItem {
  return struct(Tag.BatchItem, [
    ...head(operation, batchId),
    enumItem(Tag.ResultStatus, ResultStatus.OperationFailed),
    enumItem(Tag.ResultReason, resultReasonOf(err)),
    text(Tag.ResultMessage, err.message),
  ]);
}

function markUndone(item: StructureItem): StructureItem {
  return struct(
    Tag.BatchItem,
    item.value.map((c) => (c.tag === Tag.ResultStatus ? enumItem(Tag.ResultStatus, ResultStatus.OperationUndone) : c)),
  );
}

