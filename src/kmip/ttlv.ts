/**
 * The binary TTLV codec (KMIP 1.x §9.1, 2.x §9.1): Tag (3 bytes), Type (1 byte), Length (4 bytes,
 * big-endian), Value padded with zero bytes to a multiple of 8.
 *
 * Decoding checks every length against the bytes actually present before reading, enforces a
 * maximum message size and nesting depth, and reports any malformation as a KmipError
 * ('invalid_message', or 'message_too_large') — never a RangeError. Encoding sizes the whole message
 * first and writes it into a single buffer.
 */
import { isUtf8 } from 'node:buffer';
import { KmipError } from './errors.js';
import { tagName } from './tags.js';
import {
  ITEM_TYPE_CODE,
  type BigIntItem,
  type BooleanItem,
  type BytesItem,
  type ItemType,
  type NumberItem,
  type StructureItem,
  type TextItem,
  type TtlvItem,
} from './ttlv-types.js';

export interface TtlvLimits {
  /** Largest accepted message, header included (bytes). */
  readonly maxMessageBytes: number;
  /** Deepest accepted nesting of structures (a top-level Structure of leaves has depth 1). */
  readonly maxDepth: number;
}

export const DEFAULT_TTLV_LIMITS: TtlvLimits = Object.freeze({ maxMessageBytes: 1024 * 1024, maxDepth: 32 });

/** The deepest nesting any caller may configure: decoders recurse, and the stack must never overflow. */
export const MAX_TTLV_DEPTH = 1000;

/** The effective depth limit for the given limits (at most MAX_TTLV_DEPTH). */
export function depthLimit(limits: Partial<TtlvLimits>): number {
  return Math.min(limits.maxDepth ?? DEFAULT_TTLV_LIMITS.maxDepth, MAX_TTLV_DEPTH);
}

export interface TtlvHeader {
  readonly tag: number;
  readonly type: number;
  readonly length: number;
}

/** Size of the tag, type and length fields. */
export const TTLV_HEADER_BYTES = 8;

const TYPE_BY_CODE: readonly (ItemType | undefined)[] = (() => {
  const table: (ItemType | undefined)[] = new Array<ItemType | undefined>(256).fill(undefined);
  for (const [name, code] of Object.entries(ITEM_TYPE_CODE) as [ItemType, number][]) table[code] = name;
  return table;
})();

/** The item type for a type byte, or undefined when the byte is not a KMIP item type. */
export function itemTypeOfCode(code: number): ItemType | undefined {
  return TYPE_BY_CODE[code];
}

// ---------------------------------------------------------------------------------------------------------------
// Builders

export function struct(tag: number, children: readonly TtlvItem[]): StructureItem {
  return { tag, type: 'Structure', value: children };
}
export function int(tag: number, n: number): NumberItem {
  return { tag, type: 'Integer', value: n };
}
export function long(tag: number, n: bigint): BigIntItem {
  return { tag, type: 'LongInteger', value: n };
}
export function bigInt(tag: number, n: bigint): BigIntItem {
  return { tag, type: 'BigInteger', value: n };
}
export function enumItem(tag: number, n: number): NumberItem {
  return { tag, type: 'Enumeration', value: n };
}
export function bool(tag: number, b: boolean): BooleanItem {
  return { tag, type: 'Boolean', value: b };
}
export function text(tag: number, s: string): TextItem {
  return { tag, type: 'TextString', value: s };
}
export function bytes(tag: number, u8: Uint8Array): BytesItem {
  return { tag, type: 'ByteString', value: u8 };
}
/** Date-Time: seconds since the Unix epoch. */
export function dateTime(tag: number, seconds: bigint): BigIntItem {
  return { tag, type: 'DateTime', value: seconds };
}
/** Interval: seconds, unsigned 32-bit. */
export function interval(tag: number, n: number): NumberItem {
  return { tag, type: 'Interval', value: n };
}
/** Date-Time Extended (KMIP 2.0): microseconds since the Unix epoch. */
export function dateTimeExt(tag: number, micros: bigint): BigIntItem {
  return { tag, type: 'DateTimeExtended', value: micros };
}

// ---------------------------------------------------------------------------------------------------------------
// Encoding

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;
const UINT32_MAX = 0xffffffff;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

function invalidValue(item: TtlvItem, what: string): KmipError {
  return new KmipError('invalid_field', `${tagName(item.tag)}: ${what}`);
}

function padded(n: number): number {
  return (n + 7) & ~7;
}

/** Minimal two's-complement byte length of a bigint, rounded up to a multiple of 8 (at least 8). */
function bigIntLength(v: bigint): number {
  let bits: number;
  if (v >= 0n) bits = v.toString(2).length + 1;
  else bits = (-v - 1n).toString(2).length + 1;
  const n = Math.ceil(bits / 8);
  return Math.max(8, padded(n));
}

/** Value length (unpadded) of an item; validates ranges and types. */
function valueLength(item: TtlvItem): number {
  switch (item.type) {
    case 'Integer':
      if (!Number.isInteger(item.value) || item.value < INT32_MIN || item.value > INT32_MAX)
        throw invalidValue(item, 'Integer out of signed 32-bit range');
      return 4;
    case 'Enumeration':
    case 'Interval':
      if (!Number.isInteger(item.value) || item.value < 0 || item.value > UINT32_MAX)
        throw invalidValue(item, `${item.type} out of unsigned 32-bit range`);
      return 4;
    case 'LongInteger':
    case 'DateTime':
    case 'DateTimeExtended':
      if (typeof item.value !== 'bigint' || item.value < INT64_MIN || item.value > INT64_MAX)
        throw invalidValue(item, `${item.type} out of signed 64-bit range`);
      return 8;
    case 'BigInteger':
      if (typeof item.value !== 'bigint') throw invalidValue(item, 'BigInteger must be a bigint');
      return bigIntLength(item.value);
    case 'Boolean':
      return 8;
    case 'TextString':
      return Buffer.byteLength(item.value, 'utf8');
    case 'ByteString':
      return item.value.byteLength;
    case 'Structure': {
      let total = 0;
      for (const c of item.value) total += TTLV_HEADER_BYTES + padded(valueLength(c));
      return total;
    }
    default:
      throw new KmipError('invalid_field', 'unknown item type');
  }
}

/** The encoded size of an item, header and padding included. */
export function encodedLength(item: TtlvItem): number {
  return TTLV_HEADER_BYTES + padded(valueLength(item));
}

function checkTag(item: TtlvItem): void {
  if (!Number.isInteger(item.tag) || item.tag < 0 || item.tag > 0xffffff)
    throw new KmipError('invalid_field', `tag ${String(item.tag)} is not a 24-bit number`);
}

function writeBigInt(buf: Buffer, off: number, len: number, v: bigint): void {
  let x = BigInt.asUintN(len * 8, v);
  for (let i = len - 1; i >= 0; i--) {
    buf[off + i] = Number(x & 0xffn);
    x >>= 8n;
  }
}

function writeItem(buf: Buffer, off: number, item: TtlvItem): number {
  checkTag(item);
  buf.writeUIntBE(item.tag, off, 3);
  buf[off + 3] = ITEM_TYPE_CODE[item.type];
  if (item.type === 'Structure') {
    // Children first, then the length: each structure is sized once, not once per ancestor.
    let q = off + TTLV_HEADER_BYTES;
    for (const c of item.value) q = writeItem(buf, q, c);
    buf.writeUInt32BE(q - off - TTLV_HEADER_BYTES, off + 4);
    return q;
  }
  const len = valueLength(item);
  buf.writeUInt32BE(len, off + 4);
  const p = off + TTLV_HEADER_BYTES;
  switch (item.type) {
    case 'Integer':
      buf.writeInt32BE(item.value, p);
      break;
    case 'Enumeration':
    case 'Interval':
      buf.writeUInt32BE(item.value, p);
      break;
    case 'LongInteger':
    case 'DateTime':
    case 'DateTimeExtended':
      buf.writeBigInt64BE(item.value, p);
      break;
    case 'BigInteger':
      writeBigInt(buf, p, len, item.value);
      break;
    case 'Boolean':
      buf.writeBigUInt64BE(item.value ? 1n : 0n, p);
      break;
    case 'TextString':
      buf.write(item.value, p, len, 'utf8');
      break;
    case 'ByteString':
      buf.set(item.value, p);
      break;
  }
  const end = p + padded(len);
  buf.fill(0, p + len, end);
  return end;
}

/** Encodes one item (usually a RequestMessage or ResponseMessage) as binary TTLV. */
export function encodeTtlv(item: TtlvItem): Buffer {
  const size = encodedLength(item);
  const buf = Buffer.allocUnsafe(size);
  const end = writeItem(buf, 0, item);
  if (end !== size) throw new KmipError('general_failure', 'TTLV encoder size mismatch');
  return buf;
}

// ---------------------------------------------------------------------------------------------------------------
// Decoding

function malformed(what: string, offset: number): KmipError {
  return new KmipError('invalid_message', `malformed TTLV at byte ${offset}: ${what}`);
}

/**
 * Reads the 8-byte header at the start of `buf` (for framing: a message is 8 + length bytes).
 * Throws 'invalid_message' when fewer than 8 bytes are given or the type byte is unknown.
 */
export function readTtlvHeader(buf: Uint8Array): TtlvHeader {
  if (buf.byteLength < TTLV_HEADER_BYTES) throw malformed('header needs 8 bytes', buf.byteLength);
  const tag = (buf[0]! << 16) | (buf[1]! << 8) | buf[2]!;
  const type = buf[3]!;
  const length = ((buf[4]! << 24) >>> 0) + ((buf[5]! << 16) | (buf[6]! << 8) | buf[7]!);
  if (TYPE_BY_CODE[type] === undefined) throw malformed(`unknown item type 0x${type.toString(16)}`, 3);
  return { tag, type, length };
}

class Decoder {
  constructor(
    private readonly buf: Buffer,
    private readonly maxDepth: number,
  ) {}

  private checkPadding(from: number, to: number): void {
    for (let i = from; i < to; i++) if (this.buf[i] !== 0) throw malformed('non-zero padding', i);
  }

  /** Decodes the item at `off` that must end by `limit`; returns the item and the offset after it. */
  item(off: number, limit: number, depth: number): [TtlvItem, number] {
    const buf = this.buf;
    if (limit - off < TTLV_HEADER_BYTES) throw malformed('truncated header', off);
    const tag = (buf[off]! << 16) | (buf[off + 1]! << 8) | buf[off + 2]!;
    const code = buf[off + 3]!;
    const len = buf.readUInt32BE(off + 4);
    const type = TYPE_BY_CODE[code];
    if (type === undefined) throw malformed(`unknown item type 0x${code.toString(16)}`, off + 3);
    const start = off + TTLV_HEADER_BYTES;
    const room = limit - start;
    if (len > room)
      throw malformed(`${tagName(tag)}: length ${len} exceeds the ${room} bytes available`, off + 4);
    const end = start + len;
    const paddedEnd = type === 'Structure' ? end : start + padded(len);
    if (paddedEnd > limit) throw malformed(`${tagName(tag)}: padding exceeds the bytes available`, end);
    switch (type) {
      case 'Structure': {
        if (depth >= this.maxDepth) throw malformed(`nesting deeper than ${this.maxDepth}`, off);
        if (len % 8 !== 0)
          throw malformed(`${tagName(tag)}: structure length ${len} not a multiple of 8`, off + 4);
        const children: TtlvItem[] = [];
        let p = start;
        while (p < end) {
          const [child, next] = this.item(p, end, depth + 1);
          children.push(child);
          p = next;
        }
        return [{ tag, type, value: children }, end];
      }
      case 'Integer':
      case 'Enumeration':
      case 'Interval': {
        if (len !== 4) throw malformed(`${tagName(tag)}: ${type} length ${len}, expected 4`, off + 4);
        this.checkPadding(start + 4, paddedEnd);
        const value = type === 'Integer' ? buf.readInt32BE(start) : buf.readUInt32BE(start);
        return [{ tag, type, value }, paddedEnd];
      }
      case 'LongInteger':
      case 'DateTime':
      case 'DateTimeExtended':
        if (len !== 8) throw malformed(`${tagName(tag)}: ${type} length ${len}, expected 8`, off + 4);
        return [{ tag, type, value: buf.readBigInt64BE(start) }, paddedEnd];
      case 'BigInteger': {
        if (len === 0 || len % 8 !== 0)
          throw malformed(`${tagName(tag)}: BigInteger length ${len} not a positive multiple of 8`, off + 4);
        const hex = buf.toString('hex', start, end);
        let value = BigInt(`0x${hex}`);
        if (buf[start]! & 0x80) value -= 1n << BigInt(len * 8);
        return [{ tag, type, value }, paddedEnd];
      }
      case 'Boolean': {
        if (len !== 8) throw malformed(`${tagName(tag)}: Boolean length ${len}, expected 8`, off + 4);
        const v = buf.readBigUInt64BE(start);
        if (v !== 0n && v !== 1n) throw malformed(`${tagName(tag)}: Boolean value neither 0 nor 1`, start);
        return [{ tag, type, value: v === 1n }, paddedEnd];
      }
      case 'TextString': {
        this.checkPadding(end, paddedEnd);
        const view = buf.subarray(start, end);
        if (!isUtf8(view)) throw malformed(`${tagName(tag)}: invalid UTF-8`, start);
        return [{ tag, type, value: view.toString('utf8') }, paddedEnd];
      }
      case 'ByteString': {
        this.checkPadding(end, paddedEnd);
        // A copy, so that the caller may zero it without touching the receive buffer (and vice versa).
        return [{ tag, type, value: new Uint8Array(buf.subarray(start, end)) }, paddedEnd];
      }
    }
  }
}

/**
 * Decodes exactly one top-level item that spans the whole buffer.
 * Errors: 'message_too_large' over limits.maxMessageBytes, 'invalid_message' for any malformation.
 */
export function decodeTtlv(input: Uint8Array, limits: Partial<TtlvLimits> = {}): TtlvItem {
  const maxMessageBytes = limits.maxMessageBytes ?? DEFAULT_TTLV_LIMITS.maxMessageBytes;
  const maxDepth = depthLimit(limits);
  if (input.byteLength > maxMessageBytes)
    throw new KmipError(
      'message_too_large',
      `message of ${input.byteLength} bytes exceeds ${maxMessageBytes}`,
    );
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const [item, end] = new Decoder(buf, maxDepth).item(0, buf.byteLength, 0);
  if (end !== buf.byteLength) throw malformed(`${buf.byteLength - end} trailing bytes`, end);
  return item;
}

/**
 * Checks a header read off a stream against the limits before the body is read: returns the total
 * message length (8 + length) or throws 'message_too_large' / 'invalid_message'.
 */
export function ttlvMessageLength(header: TtlvHeader, limits: Partial<TtlvLimits> = {}): number {
  const max = limits.maxMessageBytes ?? DEFAULT_TTLV_LIMITS.maxMessageBytes;
  const total = TTLV_HEADER_BYTES + header.length;
  if (total > max) throw new KmipError('message_too_large', `message of ${total} bytes exceeds ${max}`);
  if (header.type !== ITEM_TYPE_CODE.Structure) throw malformed('a message must be a Structure', 3);
  return total;
}

// ---------------------------------------------------------------------------------------------------------------
// Reading: children by tag, values with a type check. A wrong type or a missing required field throws
// KmipError('invalid_field') naming the tag, never the value.

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
