/**
 * Reading TTLV items: find children by tag and read values with a type check. A wrong type or a
 * missing required field throws KmipError('invalid_field') naming the tag, never the value.
 */
import { KmipError } from './errors.js';
import { tagName } from './tags.js';
import type { BigIntItem, ItemType, NumberItem, StructureItem, TtlvItem } from './ttlv-types.js';

function wrongType(item: TtlvItem, expected: string): KmipError {
  return new KmipError('invalid_field', `${tagName(item.tag)}: expected ${expected}, got ${item.type}`);
}

export function asStruct(item: TtlvItem): StructureItem {
  if (item.type !== 'Structure') throw wrongType(item, 'Structure');
  return item;
}

/** The children of a structure item (throws when the item is not a Structure). */
export function childrenOf(item: TtlvItem): readonly TtlvItem[] {
  return asStruct(item).value;
}

/** The first child with this tag, or undefined. */
export function child(s: TtlvItem, tag: number): TtlvItem | undefined {
  for (const c of asStruct(s).value) if (c.tag === tag) return c;
  return undefined;
}

/** Every child with this tag, in order. */
export function children(s: TtlvItem, tag: number): TtlvItem[] {
  return asStruct(s).value.filter((c) => c.tag === tag);
}

/** The first child with this tag; throws 'invalid_field' when absent. */
export function requireChild(s: TtlvItem, tag: number): TtlvItem {
  const c = child(s, tag);
  if (c === undefined) throw new KmipError('invalid_field', `${tagName(s.tag)}: missing ${tagName(tag)}`);
  return c;
}

function numberOf(item: TtlvItem, type: NumberItem['type']): number {
  if (item.type !== type) throw wrongType(item, type);
  return item.value;
}

function bigOf(item: TtlvItem, type: BigIntItem['type']): bigint {
  if (item.type !== type) throw wrongType(item, type);
  return item.value;
}

export const asInt = (item: TtlvItem): number => numberOf(item, 'Integer');
export const asEnum = (item: TtlvItem): number => numberOf(item, 'Enumeration');
export const asInterval = (item: TtlvItem): number => numberOf(item, 'Interval');
export const asLong = (item: TtlvItem): bigint => bigOf(item, 'LongInteger');
export const asBigInt = (item: TtlvItem): bigint => bigOf(item, 'BigInteger');
export const asDateTime = (item: TtlvItem): bigint => bigOf(item, 'DateTime');
export const asDateTimeExt = (item: TtlvItem): bigint => bigOf(item, 'DateTimeExtended');

export function asBool(item: TtlvItem): boolean {
  if (item.type !== 'Boolean') throw wrongType(item, 'Boolean');
  return item.value;
}

export function asText(item: TtlvItem): string {
  if (item.type !== 'TextString') throw wrongType(item, 'TextString');
  return item.value;
}

export function asBytes(item: TtlvItem): Uint8Array {
  if (item.type !== 'ByteString') throw wrongType(item, 'ByteString');
  return item.value;
}

/** Checks an item's type, for callers that switch on several accepted types. */
export function expectType(item: TtlvItem, ...types: ItemType[]): TtlvItem {
  if (!types.includes(item.type)) throw wrongType(item, types.join(' or '));
  return item;
}

function optional<T>(read: (item: TtlvItem) => T): (s: TtlvItem, tag: number) => T | undefined {
  return (s, tag) => {
    const c = child(s, tag);
    return c === undefined ? undefined : read(c);
  };
}

function required<T>(read: (item: TtlvItem) => T): (s: TtlvItem, tag: number) => T {
  return (s, tag) => read(requireChild(s, tag));
}

/** Optional children: undefined when absent, KmipError('invalid_field') when of the wrong type. */
export const getStruct = optional(asStruct);
export const getInt = optional(asInt);
export const getEnum = optional(asEnum);
export const getInterval = optional(asInterval);
export const getLong = optional(asLong);
export const getBigInt = optional(asBigInt);
export const getDateTime = optional(asDateTime);
export const getDateTimeExt = optional(asDateTimeExt);
export const getBool = optional(asBool);
export const getText = optional(asText);
export const getBytes = optional(asBytes);

/** Required children: KmipError('invalid_field') when absent or of the wrong type. */
export const reqStruct = required(asStruct);
export const reqInt = required(asInt);
export const reqEnum = required(asEnum);
export const reqInterval = required(asInterval);
export const reqLong = required(asLong);
export const reqDateTime = required(asDateTime);
export const reqBool = required(asBool);
export const reqText = required(asText);
export const reqBytes = required(asBytes);
