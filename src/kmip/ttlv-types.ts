/**
 * The TTLV item model shared by the codec, the XML/JSON encodings, the KMS and the client.
 * A tag is its 24-bit number (0x42xxxx standard, 0x54xxxx extension); names live in tags.ts.
 */

export type ItemType =
  | 'Structure'
  | 'Integer'
  | 'LongInteger'
  | 'BigInteger'
  | 'Enumeration'
  | 'Boolean'
  | 'TextString'
  | 'ByteString'
  | 'DateTime'
  | 'Interval'
  | 'DateTimeExtended';

/** The type byte of each item type (KMIP 1.4 §9.1.1.2, 2.0 §9.1.1.2). */
export const ITEM_TYPE_CODE: Readonly<Record<ItemType, number>> = Object.freeze({
  Structure: 0x01,
  Integer: 0x02,
  LongInteger: 0x03,
  BigInteger: 0x04,
  Enumeration: 0x05,
  Boolean: 0x06,
  TextString: 0x07,
  ByteString: 0x08,
  DateTime: 0x09,
  Interval: 0x0a,
  DateTimeExtended: 0x0b,
});

export type StructureItem = { readonly tag: number; readonly type: 'Structure'; readonly value: readonly TtlvItem[] };
/** Integer is a signed 32-bit value; Enumeration and Interval are unsigned 32-bit. */
export type NumberItem = { readonly tag: number; readonly type: 'Integer' | 'Enumeration' | 'Interval'; readonly value: number };
/** LongInteger (signed 64), BigInteger (two's complement, any length), DateTime (seconds), DateTimeExtended (µs). */
export type BigIntItem = {
  readonly tag: number;
  readonly type: 'LongInteger' | 'BigInteger' | 'DateTime' | 'DateTimeExtended';
  readonly value: bigint;
};
export type BooleanItem = { readonly tag: number; readonly type: 'Boolean'; readonly value: boolean };
export type TextItem = { readonly tag: number; readonly type: 'TextString'; readonly value: string };
export type BytesItem = { readonly tag: number; readonly type: 'ByteString'; readonly value: Uint8Array };

export type TtlvItem = StructureItem | NumberItem | BigIntItem | BooleanItem | TextItem | BytesItem;
