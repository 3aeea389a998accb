/**
 * The JSON encoding of KMIP (KMIP Additional Message Encodings v1.0 §4): each item is an object
 * `{"tag": name, "type": type, "value": value}`; a Structure omits `type` and its value is an array
 * of items. Tags without a name are written `"0x54xxxx"`. Integers, Intervals and Long Integers that
 * fit a JSON number are numbers (otherwise `"0x…"` hex); enumerations by name; masks as names joined
 * by `|`; ByteString and BigInteger in hex; DateTime in ISO 8601; Boolean as true/false.
 */
import { KmipError } from './errors.js';
import { Tag, tagByName, tagName } from './tags.js';
import { bigIntHex, formatName, isoMicros, isoSeconds, parseValue, valueContext } from './text-values.js';
import { DEFAULT_TTLV_LIMITS, depthLimit, type TtlvLimits } from './ttlv.js';
import { ITEM_TYPE_CODE, type ItemType, type TtlvItem } from './ttlv-types.js';

export type JsonTtlv = {
  tag: string;
  type?: string;
  value: JsonTtlv[] | string | number | boolean;
};

const MASK_SEPARATORS = /[\s|]+/;

function bad(path: string, what: string): KmipError {
  return new KmipError('invalid_message', `JSON ${path}: ${what}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function convert(
  v: unknown,
  path: string,
  depth: number,
  maxDepth: number,
  attributeName?: string,
): TtlvItem {
  if (!isRecord(v)) throw bad(path, 'an item must be an object');
  for (const k of Object.keys(v))
    if (k !== 'tag' && k !== 'type' && k !== 'value') throw bad(path, `unexpected key "${k}"`);
  if (typeof v.tag !== 'string') throw bad(path, 'missing "tag"');
  const tag = tagByName(v.tag);
  if (tag === undefined) throw bad(path, `unknown tag "${v.tag}"`);
  const typeName = v.type ?? 'Structure';
  if (typeof typeName !== 'string' || !Object.hasOwn(ITEM_TYPE_CODE, typeName))
    throw bad(path, 'unknown "type"');
  const type = typeName as ItemType;
  const value = v.value;
  const here = `${path}/${v.tag}`;
  if (type === 'Structure') {
    if (depth >= maxDepth) throw bad(here, `nesting deeper than ${maxDepth}`);
    if (!Array.isArray(value)) throw bad(here, 'a Structure value must be an array');
    const nameItem = value.find((c) => isRecord(c) && c.tag === 'AttributeName');
    const name = isRecord(nameItem) && typeof nameItem.value === 'string' ? nameItem.value : undefined;
    return { tag, type, value: value.map((c, i) => convert(c, `${here}[${i}]`, depth + 1, maxDepth, name)) };
  }
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean')
    throw bad(here, 'a primitive value must be a string, number or boolean');
  return parseValue(tag, type, value, valueContext(tag, attributeName), MASK_SEPARATORS);
}

/** Converts a parsed JSON value to a TTLV item. */
export function jsonValueToTtlv(v: unknown, limits: Partial<TtlvLimits> = {}): TtlvItem {
  return convert(v, '', 0, depthLimit(limits));
}

/** Parses the JSON encoding of one item. Malformed JSON is KmipError('invalid_message'). */
export function jsonToTtlv(json: string, limits: Partial<TtlvLimits> = {}): TtlvItem {
  const max = limits.maxMessageBytes ?? DEFAULT_TTLV_LIMITS.maxMessageBytes;
  if (json.length > max * 8)
    throw new KmipError('message_too_large', `JSON of ${json.length} characters exceeds the limit`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    throw new KmipError('invalid_message', 'malformed JSON', { cause: err });
  }
  return jsonValueToTtlv(parsed, limits);
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function jsonScalar(item: TtlvItem, attributeName: string | undefined): string | number | boolean {
  const named = formatName(item, valueContext(item.tag, attributeName), '|');
  if (named !== undefined) return named;
  switch (item.type) {
    case 'Integer':
    case 'Enumeration':
    case 'Interval':
      return item.value;
    case 'LongInteger':
      return item.value <= MAX_SAFE && item.value >= -MAX_SAFE
        ? Number(item.value)
        : `0x${BigInt.asUintN(64, item.value).toString(16).padStart(16, '0')}`;
    case 'BigInteger':
      return `0x${bigIntHex(item.value)}`;
    case 'Boolean':
      return item.value;
    case 'TextString':
      return item.value;
    case 'ByteString':
      return Buffer.from(item.value.buffer, item.value.byteOffset, item.value.byteLength).toString('hex');
    case 'DateTime':
      return isoSeconds(item.value) ?? `0x${BigInt.asUintN(64, item.value).toString(16).padStart(16, '0')}`;
    case 'DateTimeExtended':
      return isoMicros(item.value) ?? `0x${BigInt.asUintN(64, item.value).toString(16).padStart(16, '0')}`;
    case 'Structure':
      throw new KmipError('invalid_field', 'a Structure has no scalar value');
  }
}

/** The JSON object form of an item. */
export function ttlvToJsonValue(item: TtlvItem, attributeName?: string): JsonTtlv {
  const tag = tagName(item.tag);
  if (item.type === 'Structure') {
    const nameItem = item.value.find((c) => c.tag === Tag.AttributeName && c.type === 'TextString');
    const name = nameItem?.type === 'TextString' ? nameItem.value : undefined;
    return { tag, value: item.value.map((c) => ttlvToJsonValue(c, name)) };
  }
  return { tag, type: item.type, value: jsonScalar(item, attributeName) };
}

/** The JSON encoding of an item (compact unless `pretty`). */
export function ttlvToJson(item: TtlvItem, opts: { pretty?: boolean } = {}): string {
  return JSON.stringify(ttlvToJsonValue(item), null, opts.pretty ? 2 : undefined);
}
