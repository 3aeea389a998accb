/**
 * Hand-built KMIP request messages for tests and benchmarks (the vCenter sequence, fuzz seeds, the
 * benchmark's Get and Create), made with the library's item constructors so the bytes are exactly
 * what the test says; and small readers for the responses.
 */
import { CryptographicAlgorithm, CryptographicUsageMask, ObjectType, Operation, ResultStatus, Tag, bytes, child, children, enumItem, int, struct, tagName, text } from '../../src/kmip/index.js';
import type { TtlvItem } from '../../src/kmip/index.js';

export interface BatchItemSpec {
  readonly operation: number;
  readonly payload: readonly TtlvItem[];
  /** Unique Batch Item ID (vCenter sends 8 bytes). */
  readonly id?: Uint8Array;
}

export function requestMessage(version: readonly [number, number], items: readonly BatchItemSpec[]): TtlvItem {
  return struct(Tag.RequestMessage, [
    struct(Tag.RequestHeader, [
      struct(Tag.ProtocolVersion, [int(Tag.ProtocolVersionMajor, version[0]), int(Tag.ProtocolVersionMinor, version[1])]),
      int(Tag.BatchCount, items.length),
    ]),
    ...items.map((it) =>
      struct(Tag.BatchItem, [
        enumItem(Tag.Operation, it.operation),
        ...(it.id ? [bytes(Tag.UniqueBatchItemID, it.id)] : []),
        struct(Tag.RequestPayload, it.payload),
      ]),
    ),
  ]);
}

/** A KMIP 1.x Attribute structure. */
export function attribute1x(name: string, value: TtlvItem): TtlvItem {
  return struct(Tag.Attribute, [text(Tag.AttributeName, name), { ...value, tag: Tag.AttributeValue } as TtlvItem]);
}

/** The KMIP 1.x Create payload of an AES key with usage Encrypt|Decrypt (no Name). */
export function createAesPayload1x(bits: number): TtlvItem[] {
  return [
    enumItem(Tag.ObjectType, ObjectType.SymmetricKey),
    struct(Tag.TemplateAttribute, [
      attribute1x('Cryptographic Algorithm', enumItem(0, CryptographicAlgorithm.AES)),
      attribute1x('Cryptographic Length', int(0, bits)),
      attribute1x('Cryptographic Usage Mask', int(0, CryptographicUsageMask.Encrypt | CryptographicUsageMask.Decrypt)),
    ]),
  ];
}

export function uidPayload(uid: string): TtlvItem[] {
  return [text(Tag.UniqueIdentifier, uid)];
}

export { Operation };

/** The batch items of a response message, each with its status and payload. */
export interface ResponseItem {
  readonly operation: number | undefined;
  readonly status: number | undefined;
  readonly reason: number | undefined;
  readonly id: Uint8Array | undefined;
  readonly payload: TtlvItem | undefined;
}

export function responseItems(msg: TtlvItem): ResponseItem[] {
  if (msg.tag !== Tag.ResponseMessage) throw new Error(`expected a ResponseMessage, got ${tagName(msg.tag)}`);
  return children(msg, Tag.BatchItem).map((bi) => {
    const num = (tag: number): number | undefined => {
      const c = child(bi, tag);
      return c && c.type === 'Enumeration' ? c.value : undefined;
    };
    const idItem = child(bi, Tag.UniqueBatchItemID);
    return {
      operation: num(Tag.Operation),
      status: num(Tag.ResultStatus),
      reason: num(Tag.ResultReason),
      id: idItem && idItem.type === 'ByteString' ? idItem.value : undefined,
      payload: child(bi, Tag.ResponsePayload),
    };
  });
}

/** The single successful batch item's payload, or an Error naming the status and reason. */
export function successPayload(msg: TtlvItem): TtlvItem {
  const items = responseItems(msg);
  if (items.length !== 1) throw new Error(`expected one batch item, got ${items.length}`);
  const it = items[0]!;
  if (it.status !== ResultStatus.Success) throw new Error(`operation failed: status ${it.status}, reason ${it.reason}`);
  if (!it.payload) throw new Error('success without a ResponsePayload');
  return it.payload;
}

export function textOf(item: TtlvItem | undefined): string | undefined {
  return item && item.type === 'TextString' ? item.value : undefined;
}
