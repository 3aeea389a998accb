/**
 * The messages of the KMIP client: a request with one batch item, and the reading of its response
 * (the payload on Success, a KmipOperationError otherwise; anything malformed is response_invalid).
 */
import { SecretBytes } from '../crypto/secret-bytes.js';
import { CommonError } from '../common/errors.js';
import { Tag } from './tags.js';
import { ObjectType, ResultStatus, enumDef, enumValueName } from './enums.js';
import {
  struct,
  encodeTtlv,
  decodeTtlv,
  child,
  getEnum,
  getInt,
  reqEnum,
  reqStruct,
  reqText,
} from './ttlv.js';
import type { StructureItem, TtlvItem } from './ttlv-types.js';
import { KmipError } from './errors.js';
import { KmipClientError, KmipOperationError } from './client-errors.js';
import {
  buildRequestMessage,
  parseResponseMessage,
  type ProtocolVersion,
  type ResponseMessage,
} from './messages.js';

/** A managed object fetched with Get. The caller disposes `material` when done. */
export interface KmipManagedObject {
  readonly uniqueIdentifier: string;
  readonly objectType: string;
  readonly keyFormatType: string | undefined;
  readonly algorithm: string | undefined;
  readonly length: number | undefined;
  readonly material: SecretBytes;
}

export const OPERATION_DEF = enumDef('Operation')!;
const RESULT_STATUS_DEF = enumDef('ResultStatus')!;
export const OBJECT_TYPE_DEF = enumDef('ObjectType')!;
const ALGORITHM_DEF = enumDef('CryptographicAlgorithm')!;
const KEY_FORMAT_DEF = enumDef('KeyFormatType')!;

/** The name of an enumeration value, or its hex form when the table has none. */
export function nameOf(def: NonNullable<ReturnType<typeof enumDef>>, value: number): string {
  return enumValueName(def, value) ?? `0x${value.toString(16).padStart(8, '0')}`;
}

/** A Request Message with one batch item (no Unique Batch Item ID: optional for one item). */
export function encodeSingleRequest(
  v: ProtocolVersion,
  operation: number,
  payloadItems: readonly TtlvItem[],
): Buffer {
  return encodeTtlv(
    buildRequestMessage({
      header: { protocolVersion: v },
      batchItems: [{ operation, payload: struct(Tag.RequestPayload, payloadItems) }],
    }),
  );
}

/** Decodes a response to a one-item batch: the payload on Success, KmipOperationError otherwise. */
export function parseSingleResponse(
  raw: Uint8Array,
  operation: number,
  maxMessageBytes: number,
): StructureItem {
  const opName = nameOf(OPERATION_DEF, operation);
  let response: ResponseMessage;
  try {
    response = parseResponseMessage(decodeTtlv(raw, { maxMessageBytes }));
  } catch (err) {
    if (err instanceof KmipError) throw malformed(opName, err);
    throw err;
  }
  if (response.batchItems.length !== 1)
    throw new KmipClientError(
      'response_invalid',
      `the ${opName} response has ${response.batchItems.length} batch items, expected 1`,
    );
  const bi = response.batchItems[0]!;
  if (bi.operation !== undefined && bi.operation !== operation) {
    throw new KmipClientError(
      'response_invalid',
      `the response answers ${nameOf(OPERATION_DEF, bi.operation)}, not ${opName}`,
    );
  }
  if (bi.resultStatus !== ResultStatus.Success) {
    throw new KmipOperationError({
      operation: opName,
      resultStatus: nameOf(RESULT_STATUS_DEF, bi.resultStatus),
      ...(bi.resultReason !== undefined ? { resultReason: bi.resultReason } : {}),
      ...(bi.resultMessage !== undefined ? { resultMessage: bi.resultMessage } : {}),
    });
  }
  return bi.payload ?? struct(Tag.ResponsePayload, []);
}

function malformed(opName: string, err: KmipError): KmipClientError {
  return new KmipClientError('response_invalid', `the ${opName} response is malformed: ${err.message}`, {
    cause: err,
  });
}

/** The object of a Get response payload (symmetric key or secret data, not wrapped). */
export function readManagedObject(payload: StructureItem): KmipManagedObject {
  const objectType = reqEnum(payload, Tag.ObjectType);
  const objectTag =
    objectType === ObjectType.SymmetricKey
      ? Tag.SymmetricKey
      : objectType === ObjectType.SecretData
        ? Tag.SecretData
        : undefined;
  if (objectTag === undefined) {
    throw new CommonError(
      'not_supported',
      `the client reads symmetric keys and secret data, not ${nameOf(OBJECT_TYPE_DEF, objectType)}`,
    );
  }
  const keyBlock = reqStruct(reqStruct(payload, objectTag), Tag.KeyBlock);
  if (child(keyBlock, Tag.KeyWrappingData) !== undefined)
    throw new CommonError('not_supported', 'the key came back wrapped; the client asks for plain keys');
  const keyValue = reqStruct(keyBlock, Tag.KeyValue);
  const material = child(keyValue, Tag.KeyMaterial);
  // Raw and Opaque formats carry the bytes; Transparent Symmetric Key carries them in Key.
  const bytesItem = material?.type === 'Structure' ? child(material, Tag.Key) : material;
  if (bytesItem === undefined || bytesItem.type !== 'ByteString') {
    throw new KmipClientError('response_invalid', 'the Get response has no key material the client can read');
  }
  const format = getEnum(keyBlock, Tag.KeyFormatType);
  const algorithm = getEnum(keyBlock, Tag.CryptographicAlgorithm);
  return {
    uniqueIdentifier: reqText(payload, Tag.UniqueIdentifier),
    objectType: nameOf(OBJECT_TYPE_DEF, objectType),
    keyFormatType: format === undefined ? undefined : nameOf(KEY_FORMAT_DEF, format),
    algorithm: algorithm === undefined ? undefined : nameOf(ALGORITHM_DEF, algorithm),
    length: getInt(keyBlock, Tag.CryptographicLength),
    material: SecretBytes.from(bytesItem.value, { zeroSource: true }),
  };
}

/** Reads a Success payload; a KmipError of the reading (a field missing or mistyped) is response_invalid. */
export function readPayload<T>(opName: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof KmipError && !(err instanceof KmipOperationError)) throw malformed(opName, err);
    throw err;
  }
}

/** Zeroes every byte string in a decoded item (they are private copies made by the decoder). */
export function zeroByteStrings(item: TtlvItem): void {
  if (item.type === 'ByteString') item.value.fill(0);
  else if (item.type === 'Structure') for (const c of item.value) zeroByteStrings(c);
}
