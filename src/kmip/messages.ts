/**
 * Typed KMIP request and response messages, 1.0–2.1 (KMIP 1.4 §6–7, 2.0 §8–9): headers, batch
 * items, results. Payloads stay TTLV structures: each operation reads its own.
 *
 * Parsing is strict about the message frame (order of header fields, one header, BatchCount equal to
 * the number of batch items) and lenient inside a batch item: a problem in one item is recorded on
 * that item (`problem`) so the server can answer it alone, as KMIP asks, while a broken header or
 * frame throws KmipError('invalid_message'); `requestContext()` then still reads what it can (the
 * protocol version, operations, batch item ids) to shape the error response.
 *
 * Responses carry exactly ProtocolVersion, TimeStamp and BatchCount in the header unless the caller
 * sets the optional fields (PyKMIP's client rejects anything else).
 */
import { BatchErrorContinuationOption, ResultStatus } from './enums.js';
import { KmipError, resultReasonOf } from './errors.js';
import { Tag, tagName } from './tags.js';
import {
  asBool,
  asBytes,
  asDateTime,
  asEnum,
  asInt,
  asStruct,
  asText,
  bool,
  bytes,
  dateTime,
  enumItem,
  int,
  struct,
  text,
} from './ttlv.js';
import type { StructureItem, TtlvItem } from './ttlv-types.js';

export interface ProtocolVersion {
  readonly major: number;
  readonly minor: number;
}

export interface RequestHeader {
  readonly protocolVersion: ProtocolVersion;
  readonly maximumResponseSize?: number;
  readonly clientCorrelationValue?: string;
  readonly serverCorrelationValue?: string;
  readonly asynchronousIndicator?: boolean;
  readonly attestationCapableIndicator?: boolean;
  readonly attestationTypes?: readonly number[];
  /** The Authentication structure as sent (Credential…); the server decides what it accepts. */
  readonly authentication?: TtlvItem;
  /** Stop (default), Continue or Undo: BatchErrorContinuationOption values. */
  readonly batchErrorContinuationOption?: number;
  readonly batchOrderOption?: boolean;
  readonly timeStamp?: bigint;
  readonly batchCount: number;
}

export interface RequestBatchItem {
  /** Operation enumeration value (not checked against the table: the server answers unknown ones). */
  readonly operation: number;
  /** KMIP 2.0 Ephemeral flag. */
  readonly ephemeral?: boolean;
  /** Opaque bytes of any length (vCenter sends 8), echoed in the response item. */
  readonly uniqueBatchItemId?: Uint8Array;
  /** The RequestPayload structure. */
  readonly payload: StructureItem;
  readonly messageExtensions?: readonly TtlvItem[];
  /** Set by parseRequestMessage when this item alone is malformed; the server answers it as failed. */
  readonly problem?: KmipError;
}

export interface RequestMessage {
  readonly header: RequestHeader;
  readonly batchItems: readonly RequestBatchItem[];
}

export interface ResponseHeader {
  readonly protocolVersion: ProtocolVersion;
  readonly timeStamp: bigint;
  /** KMIP 1.2+ attestation nonce and types, only when the server asks for attestation. */
  readonly nonce?: TtlvItem;
  readonly attestationTypes?: readonly number[];
  /** KMIP 1.4+ correlation values; set them only when the client sent them. */
  readonly clientCorrelationValue?: string;
  readonly serverCorrelationValue?: string;
  /** Computed from batchItems when encoding; present after parsing. */
  readonly batchCount?: number;
}

export interface ResponseBatchItem {
  readonly operation?: number;
  readonly uniqueBatchItemId?: Uint8Array;
  readonly resultStatus: number;
  readonly resultReason?: number;
  readonly resultMessage?: string;
  readonly asynchronousCorrelationValue?: Uint8Array;
  /** The ResponsePayload structure (absent on failure or when the operation returns nothing). */
  readonly payload?: StructureItem;
  readonly messageExtensions?: readonly TtlvItem[];
}

export interface ResponseMessage {
  readonly header: ResponseHeader;
  readonly batchItems: readonly ResponseBatchItem[];
}

/** The continuation options by name, for the server's batch loop. */
export type BatchErrorContinuation = 'Stop' | 'Continue' | 'Undo';

export function batchErrorContinuation(header: RequestHeader): BatchErrorContinuation {
  switch (header.batchErrorContinuationOption ?? BatchErrorContinuationOption.Stop) {
    case BatchErrorContinuationOption.Continue:
      return 'Continue';
    case BatchErrorContinuationOption.Undo:
      return 'Undo';
    default:
      return 'Stop';
  }
}

/**
 * The ID Placeholder (KMIP 1.x §6.13 / 2.x §8.x): the Unique Identifier that an operation of a batch
 * leaves for the following ones, used when a request payload omits its Unique Identifier. The server
 * owns one per request message and updates it after each successful item.
 */
export interface IdPlaceholder {
  value?: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Shared readers

function invalidMessage(what: string): KmipError {
  return new KmipError('invalid_message', what);
}

function readProtocolVersion(item: TtlvItem): ProtocolVersion {
  const pv = asStruct(item);
  const [major, minor, ...extra] = pv.value;
  if (major?.tag !== Tag.ProtocolVersionMajor || minor?.tag !== Tag.ProtocolVersionMinor || extra.length > 0)
    throw invalidMessage('ProtocolVersion: expected ProtocolVersionMajor then ProtocolVersionMinor');
  const v = { major: asInt(major), minor: asInt(minor) };
  if (v.major < 0 || v.minor < 0) throw new KmipError('invalid_field', 'ProtocolVersion: negative number');
  return v;
}

export function protocolVersionItem(v: ProtocolVersion): StructureItem {
  return struct(Tag.ProtocolVersion, [
    int(Tag.ProtocolVersionMajor, v.major),
    int(Tag.ProtocolVersionMinor, v.minor),
  ]);
}

/**
 * Walks the children of a structure in the order a field table gives: each field may appear once
 * (Attestation Type and Message Extension repeatedly); fields out of order or unknown fail with
 * invalid_message.
 */
const REPEATABLE: ReadonlySet<number> = new Set([Tag.AttestationType, Tag.MessageExtension]);

function walkOrdered(s: StructureItem, fields: readonly number[], visit: (item: TtlvItem) => void): void {
  let at = 0;
  let last = -1;
  for (const c of s.value) {
    let i = at;
    while (i < fields.length && fields[i] !== c.tag) i++;
    if (i === fields.length) {
      const known = fields.includes(c.tag);
      throw invalidMessage(
        `${tagName(s.tag)}: ${tagName(c.tag)} ${known ? 'out of order' : 'not expected here'}`,
      );
    }
    if (i === last && !REPEATABLE.has(c.tag))
      throw invalidMessage(`${tagName(s.tag)}: ${tagName(c.tag)} appears twice`);
    last = i;
    at = i;
    visit(c);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Requests

const REQUEST_HEADER_FIELDS: readonly number[] = [
  Tag.ProtocolVersion,
  Tag.MaximumResponseSize,
  Tag.ClientCorrelationValue,
  Tag.ServerCorrelationValue,
  Tag.AsynchronousIndicator,
  Tag.AttestationCapableIndicator,
  Tag.AttestationType,
  Tag.Authentication,
  Tag.BatchErrorContinuationOption,
  Tag.BatchOrderOption,
  Tag.TimeStamp,
  Tag.BatchCount,
];

const CONTINUATION_VALUES: ReadonlySet<number> = new Set(Object.values(BatchErrorContinuationOption));

function parseRequestHeader(item: TtlvItem): RequestHeader {
  const s = asStruct(item);
  let protocolVersion: ProtocolVersion | undefined;
  let batchCount: number | undefined;
  const h: { -readonly [K in keyof RequestHeader]?: RequestHeader[K] } = {};
  const attestationTypes: number[] = [];
  walkOrdered(s, REQUEST_HEADER_FIELDS, (c) => {
    switch (c.tag) {
      case Tag.ProtocolVersion:
        protocolVersion = readProtocolVersion(c);
        break;
      case Tag.MaximumResponseSize:
        h.maximumResponseSize = asInt(c);
        break;
      case Tag.ClientCorrelationValue:
        h.clientCorrelationValue = asText(c);
        break;
      case Tag.ServerCorrelationValue:
        h.serverCorrelationValue = asText(c);
        break;
      case Tag.AsynchronousIndicator:
        h.asynchronousIndicator = asBool(c);
        break;
      case Tag.AttestationCapableIndicator:
        h.attestationCapableIndicator = asBool(c);
        break;
      case Tag.AttestationType:
        attestationTypes.push(asEnum(c));
        break;
      case Tag.Authentication:
        h.authentication = asStruct(c);
        break;
      case Tag.BatchErrorContinuationOption: {
        const v = asEnum(c);
        if (!CONTINUATION_VALUES.has(v))
          throw new KmipError('invalid_field', 'BatchErrorContinuationOption: unknown value');
        h.batchErrorContinuationOption = v;
        break;
      }
      case Tag.BatchOrderOption:
        h.batchOrderOption = asBool(c);
        break;
      case Tag.TimeStamp:
        h.timeStamp = asDateTime(c);
        break;
      case Tag.BatchCount:
        batchCount = asInt(c);
        break;
    }
  });
  if (protocolVersion === undefined) throw invalidMessage('RequestHeader: missing ProtocolVersion');
  if (batchCount === undefined) throw invalidMessage('RequestHeader: missing BatchCount');
  if (attestationTypes.length > 0) h.attestationTypes = attestationTypes;
  return { ...h, protocolVersion, batchCount };
}

const REQUEST_ITEM_FIELDS: readonly number[] = [
  Tag.Operation,
  Tag.Ephemeral,
  Tag.UniqueBatchItemID,
  Tag.RequestPayload,
  Tag.MessageExtension,
];

function parseRequestBatchItem(item: TtlvItem): RequestBatchItem {
  const s = asStruct(item);
  // Operation and the batch item id are read first, so that a failure answer can echo them.
  const opItem = s.value.find((c) => c.tag === Tag.Operation);
  const idItem = s.value.find((c) => c.tag === Tag.UniqueBatchItemID);
  let operation = 0;
  let uniqueBatchItemId: Uint8Array | undefined;
  try {
    if (opItem !== undefined) operation = asEnum(opItem);
    if (idItem !== undefined) uniqueBatchItemId = asBytes(idItem);
  } catch (err) {
    return { operation, payload: struct(Tag.RequestPayload, []), problem: err as KmipError };
  }
  const base = { operation, ...(uniqueBatchItemId ? { uniqueBatchItemId } : {}) };
  try {
    let payload: StructureItem | undefined;
    let ephemeral: boolean | undefined;
    const messageExtensions: TtlvItem[] = [];
    walkOrdered(s, REQUEST_ITEM_FIELDS, (c) => {
      if (c.tag === Tag.RequestPayload) payload = asStruct(c);
      else if (c.tag === Tag.Ephemeral) ephemeral = asBool(c);
      else if (c.tag === Tag.MessageExtension) messageExtensions.push(asStruct(c));
    });
    if (opItem === undefined) throw invalidMessage('BatchItem: missing Operation');
    if (payload === undefined) throw invalidMessage('BatchItem: missing RequestPayload');
    return {
      ...base,
      payload,
      ...(ephemeral !== undefined ? { ephemeral } : {}),
      ...(messageExtensions.length > 0 ? { messageExtensions } : {}),
    };
  } catch (err) {
    if (!(err instanceof KmipError)) throw err;
    return { ...base, payload: struct(Tag.RequestPayload, []), problem: err };
  }
}

/**
 * Parses a RequestMessage. Throws KmipError('invalid_message' / 'invalid_field') when the frame or
 * header is broken; a broken batch item is returned with `problem` set.
 */
export function parseRequestMessage(item: TtlvItem): RequestMessage {
  if (item.tag !== Tag.RequestMessage || item.type !== 'Structure')
    throw invalidMessage(`expected a RequestMessage structure, got ${tagName(item.tag)}`);
  const [headerItem, ...rest] = item.value;
  if (headerItem?.tag !== Tag.RequestHeader)
    throw invalidMessage('RequestMessage: RequestHeader must come first');
  const header = parseRequestHeader(headerItem);
  const batchItems: RequestBatchItem[] = [];
  for (const b of rest) {
    if (b.tag !== Tag.BatchItem)
      throw invalidMessage(`RequestMessage: ${tagName(b.tag)} not expected after the header`);
    batchItems.push(parseRequestBatchItem(b));
  }
  if (batchItems.length === 0) throw invalidMessage('RequestMessage: no BatchItem');
  if (batchItems.length !== header.batchCount)
    throw invalidMessage(`BatchCount ${header.batchCount} but ${batchItems.length} batch items`);
  return { header, batchItems };
}

/**
 * What can be read from a request that failed to parse: its protocol version and, per batch item,
 * its operation and id. Never throws; used to shape the error response.
 */
export function requestContext(item: TtlvItem): {
  version?: ProtocolVersion;
  items: { operation?: number; uniqueBatchItemId?: Uint8Array }[];
} {
  const out: { version?: ProtocolVersion; items: { operation?: number; uniqueBatchItemId?: Uint8Array }[] } =
    { items: [] };
  if (item.type !== 'Structure') return out;
  for (const c of item.value) {
    try {
      if (c.tag === Tag.RequestHeader && c.type === 'Structure') {
        const pv = c.value.find((x) => x.tag === Tag.ProtocolVersion);
        if (pv) out.version = readProtocolVersion(pv);
      } else if (c.tag === Tag.BatchItem && c.type === 'Structure') {
        const op = c.value.find((x) => x.tag === Tag.Operation);
        const id = c.value.find((x) => x.tag === Tag.UniqueBatchItemID);
        out.items.push({
          ...(op?.type === 'Enumeration' ? { operation: op.value } : {}),
          ...(id?.type === 'ByteString' ? { uniqueBatchItemId: id.value } : {}),
        });
      }
    } catch {
      // Best effort: skip what cannot be read.
    }
  }
  return out;
}

/** Builds a RequestMessage item; BatchCount is the number of batch items. */
export function buildRequestMessage(req: {
  readonly header: Omit<RequestHeader, 'batchCount'> & { readonly batchCount?: number };
  readonly batchItems: readonly Omit<RequestBatchItem, 'problem'>[];
}): StructureItem {
  const h = req.header;
  const header: TtlvItem[] = [protocolVersionItem(h.protocolVersion)];
  if (h.maximumResponseSize !== undefined) header.push(int(Tag.MaximumResponseSize, h.maximumResponseSize));
  if (h.clientCorrelationValue !== undefined)
    header.push(text(Tag.ClientCorrelationValue, h.clientCorrelationValue));
  if (h.serverCorrelationValue !== undefined)
    header.push(text(Tag.ServerCorrelationValue, h.serverCorrelationValue));
  if (h.asynchronousIndicator !== undefined)
    header.push(bool(Tag.AsynchronousIndicator, h.asynchronousIndicator));
  if (h.attestationCapableIndicator !== undefined)
    header.push(bool(Tag.AttestationCapableIndicator, h.attestationCapableIndicator));
  for (const t of h.attestationTypes ?? []) header.push(enumItem(Tag.AttestationType, t));
  if (h.authentication !== undefined) header.push(h.authentication);
  if (h.batchErrorContinuationOption !== undefined)
    header.push(enumItem(Tag.BatchErrorContinuationOption, h.batchErrorContinuationOption));
  if (h.batchOrderOption !== undefined) header.push(bool(Tag.BatchOrderOption, h.batchOrderOption));
  if (h.timeStamp !== undefined) header.push(dateTime(Tag.TimeStamp, h.timeStamp));
  header.push(int(Tag.BatchCount, h.batchCount ?? req.batchItems.length));
  const items = req.batchItems.map((b) => {
    const parts: TtlvItem[] = [enumItem(Tag.Operation, b.operation)];
    if (b.ephemeral !== undefined) parts.push(bool(Tag.Ephemeral, b.ephemeral));
    if (b.uniqueBatchItemId !== undefined) parts.push(bytes(Tag.UniqueBatchItemID, b.uniqueBatchItemId));
    parts.push(
      b.payload.tag === Tag.RequestPayload ? b.payload : struct(Tag.RequestPayload, b.payload.value),
    );
    parts.push(...(b.messageExtensions ?? []));
    return struct(Tag.BatchItem, parts);
  });
  return struct(Tag.RequestMessage, [struct(Tag.RequestHeader, header), ...items]);
}

// ---------------------------------------------------------------------------------------------------------------
// Responses

/** Encodes a ResponseMessage item: header ProtocolVersion, TimeStamp, [optional fields set], BatchCount. */
export function encodeResponseMessage(resp: ResponseMessage): StructureItem {
  const h = resp.header;
  const header: TtlvItem[] = [protocolVersionItem(h.protocolVersion), dateTime(Tag.TimeStamp, h.timeStamp)];
  if (h.nonce !== undefined) header.push(h.nonce);
  for (const t of h.attestationTypes ?? []) header.push(enumItem(Tag.AttestationType, t));
  if (h.clientCorrelationValue !== undefined)
    header.push(text(Tag.ClientCorrelationValue, h.clientCorrelationValue));
  if (h.serverCorrelationValue !== undefined)
    header.push(text(Tag.ServerCorrelationValue, h.serverCorrelationValue));
  header.push(int(Tag.BatchCount, resp.batchItems.length));
  const items = resp.batchItems.map((b) => {
    const parts: TtlvItem[] = [];
    if (b.operation !== undefined) parts.push(enumItem(Tag.Operation, b.operation));
    if (b.uniqueBatchItemId !== undefined) parts.push(bytes(Tag.UniqueBatchItemID, b.uniqueBatchItemId));
    parts.push(enumItem(Tag.ResultStatus, b.resultStatus));
    if (b.resultReason !== undefined) parts.push(enumItem(Tag.ResultReason, b.resultReason));
    if (b.resultMessage !== undefined) parts.push(text(Tag.ResultMessage, b.resultMessage));
    if (b.asynchronousCorrelationValue !== undefined)
      parts.push(bytes(Tag.AsynchronousCorrelationValue, b.asynchronousCorrelationValue));
    if (b.payload !== undefined)
      parts.push(
        b.payload.tag === Tag.ResponsePayload ? b.payload : struct(Tag.ResponsePayload, b.payload.value),
      );
    parts.push(...(b.messageExtensions ?? []));
    return struct(Tag.BatchItem, parts);
  });
  return struct(Tag.ResponseMessage, [struct(Tag.ResponseHeader, header), ...items]);
}

/** A successful response batch item echoing the request's operation and id. */
export function successItem(
  request: Pick<RequestBatchItem, 'operation' | 'uniqueBatchItemId'>,
  payload?: readonly TtlvItem[],
): ResponseBatchItem {
  return {
    operation: request.operation,
    ...(request.uniqueBatchItemId ? { uniqueBatchItemId: request.uniqueBatchItemId } : {}),
    resultStatus: ResultStatus.Success,
    ...(payload ? { payload: struct(Tag.ResponsePayload, payload) } : {}),
  };
}

/**
 * A failed response batch item: the Result Reason of a KmipError (General Failure otherwise) and
 * its public message. Anything not a KmipError gets a fixed message: internal details never leave.
 */
export function failureItem(
  request: Partial<Pick<RequestBatchItem, 'operation' | 'uniqueBatchItemId'>>,
  err: unknown,
  status: number = ResultStatus.OperationFailed,
): ResponseBatchItem {
  return {
    ...(request.operation !== undefined ? { operation: request.operation } : {}),
    ...(request.uniqueBatchItemId ? { uniqueBatchItemId: request.uniqueBatchItemId } : {}),
    resultStatus: status,
    resultReason: resultReasonOf(err),
    resultMessage: err instanceof KmipError ? err.message : 'the operation failed on the server',
  };
}

const RESPONSE_HEADER_FIELDS: readonly number[] = [
  Tag.ProtocolVersion,
  Tag.TimeStamp,
  Tag.Nonce,
  Tag.ServerHashedPassword,
  Tag.AttestationType,
  Tag.ClientCorrelationValue,
  Tag.ServerCorrelationValue,
  Tag.BatchCount,
];

const RESPONSE_ITEM_FIELDS: readonly number[] = [
  Tag.Operation,
  Tag.UniqueBatchItemID,
  Tag.ResultStatus,
  Tag.ResultReason,
  Tag.ResultMessage,
  Tag.AsynchronousCorrelationValue,
  Tag.ResponsePayload,
  Tag.MessageExtension,
];

function parseResponseBatchItem(item: TtlvItem): ResponseBatchItem {
  const s = asStruct(item);
  const b: { -readonly [K in keyof ResponseBatchItem]?: ResponseBatchItem[K] } = {};
  const messageExtensions: TtlvItem[] = [];
  walkOrdered(s, RESPONSE_ITEM_FIELDS, (c) => {
    switch (c.tag) {
      case Tag.Operation:
        b.operation = asEnum(c);
        break;
      case Tag.UniqueBatchItemID:
        b.uniqueBatchItemId = asBytes(c);
        break;
      case Tag.ResultStatus:
        b.resultStatus = asEnum(c);
        break;
      case Tag.ResultReason:
        b.resultReason = asEnum(c);
        break;
      case Tag.ResultMessage:
        b.resultMessage = asText(c);
        break;
      case Tag.AsynchronousCorrelationValue:
        b.asynchronousCorrelationValue = asBytes(c);
        break;
      case Tag.ResponsePayload:
        b.payload = asStruct(c);
        break;
      case Tag.MessageExtension:
        messageExtensions.push(c);
        break;
    }
  });
  if (b.resultStatus === undefined) throw invalidMessage('BatchItem: missing ResultStatus');
  if (messageExtensions.length > 0) b.messageExtensions = messageExtensions;
  return b as ResponseBatchItem;
}

/** Parses a ResponseMessage (for clients). Throws KmipError('invalid_message' / 'invalid_field'). */
export function parseResponseMessage(item: TtlvItem): ResponseMessage {
  if (item.tag !== Tag.ResponseMessage || item.type !== 'Structure')
    throw invalidMessage(`expected a ResponseMessage structure, got ${tagName(item.tag)}`);
  const [headerItem, ...rest] = item.value;
  if (headerItem?.tag !== Tag.ResponseHeader)
    throw invalidMessage('ResponseMessage: ResponseHeader must come first');
  let protocolVersion: ProtocolVersion | undefined;
  let timeStamp: bigint | undefined;
  let batchCount: number | undefined;
  const h: { -readonly [K in keyof ResponseHeader]?: ResponseHeader[K] } = {};
  const attestationTypes: number[] = [];
  walkOrdered(asStruct(headerItem), RESPONSE_HEADER_FIELDS, (c) => {
    switch (c.tag) {
      case Tag.ProtocolVersion:
        protocolVersion = readProtocolVersion(c);
        break;
      case Tag.TimeStamp:
        timeStamp = asDateTime(c);
        break;
      case Tag.Nonce:
        h.nonce = c;
        break;
      case Tag.AttestationType:
        attestationTypes.push(asEnum(c));
        break;
      case Tag.ClientCorrelationValue:
        h.clientCorrelationValue = asText(c);
        break;
      case Tag.ServerCorrelationValue:
        h.serverCorrelationValue = asText(c);
        break;
      case Tag.BatchCount:
        batchCount = asInt(c);
        break;
    }
  });
  if (protocolVersion === undefined || timeStamp === undefined || batchCount === undefined)
    throw invalidMessage('ResponseHeader: ProtocolVersion, TimeStamp and BatchCount are required');
  if (attestationTypes.length > 0) h.attestationTypes = attestationTypes;
  const batchItems = rest.map((b) => {
    if (b.tag !== Tag.BatchItem)
      throw invalidMessage(`ResponseMessage: ${tagName(b.tag)} not expected after the header`);
    return parseResponseBatchItem(b);
  });
  if (batchItems.length !== batchCount)
    throw invalidMessage(`BatchCount ${batchCount} but ${batchItems.length} batch items`);
  return { header: { ...h, protocolVersion, timeStamp, batchCount }, batchItems };
}
