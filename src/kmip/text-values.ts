/**
 * Textual forms of TTLV values, shared by the XML and JSON encodings (KMIP Additional Message
 * Encodings v1.0 §4 JSON, §5 XML): enumerations by name (hex `0x0000000N` when unnamed), masks as
 * names, byte strings and big integers in hex, date-times in ISO 8601. Which enumeration or mask a
 * value uses depends on its tag, or for an AttributeValue on the sibling AttributeName, and for an
 * AttributeReference the value is a tag (named like an element).
 */
import { attributeTag } from './attributes.js';
import { enumForTag, enumValueName, maskForTag, maskNames, type EnumDef } from './enums.js';
import { KmipError } from './errors.js';
import { Tag, tagByName, tagName } from './tags.js';
import type { ItemType, TtlvItem } from './ttlv-types.js';

export interface ValueContext {
  readonly enumDef?: EnumDef;
  readonly maskDef?: EnumDef;
  /** The value is a tag number (AttributeReference, ExtensionTag...). */
  readonly isTag?: boolean;
}

const TAG_VALUED: ReadonlySet<number> = new Set([Tag.AttributeReference, Tag.ExtensionTag, Tag.Tag]);

/**
 * The naming context of an item: `attributeName` is the text of a sibling AttributeName (1.x
 * attributes and 2.x vendor attributes), which decides how an AttributeValue is named.
 */
export function valueContext(tag: number, attributeName?: string): ValueContext {
  if (TAG_VALUED.has(tag)) return { isTag: true };
  const effective =
    tag === Tag.AttributeValue && attributeName !== undefined ? attributeTag(attributeName) : tag;
  if (effective === undefined) return {};
  const enumDef = enumForTag(effective);
  const maskDef = maskForTag(effective);
  return { ...(enumDef ? { enumDef } : {}), ...(maskDef ? { maskDef } : {}) };
}

function invalid(tag: number, type: ItemType, what: string): KmipError {
  return new KmipError('invalid_field', `${tagName(tag)} (${type}): ${what}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Formatting

function hex32(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
}

/** Two's-complement bytes of a BigInteger as in TTLV (length a multiple of 8), lower-case hex. */
export function bigIntHex(v: bigint): string {
  const bits = (v >= 0n ? v : -v - 1n).toString(2).length + 1;
  const len = Math.max(8, Math.ceil(bits / 64) * 8);
  return BigInt.asUintN(len * 8, v)
    .toString(16)
    .padStart(len * 2, '0');
}

/** 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the range written in ISO 8601. */
const MIN_ISO_MS = -62135596800000;
const MAX_ISO_MS = Date.UTC(9999, 11, 31, 23, 59, 59);

function isoFromMs(ms: number, fraction: string): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, `${fraction}+00:00`);
}

/** ISO 8601 form of a DateTime (seconds), or undefined outside years 1–9999. */
export function isoSeconds(seconds: bigint): string | undefined {
  const ms = Number(seconds) * 1000;
  if (!Number.isSafeInteger(ms) || ms < MIN_ISO_MS || ms > MAX_ISO_MS) return undefined;
  return isoFromMs(ms, '');
}

/** ISO 8601 form of a DateTimeExtended (microseconds), or undefined outside years 1–9999. */
export function isoMicros(micros: bigint): string | undefined {
  const sec = micros >= 0n ? micros / 1_000_000n : -((-micros + 999_999n) / 1_000_000n);
  const frac = micros - sec * 1_000_000n;
  const ms = Number(sec) * 1000;
  if (!Number.isSafeInteger(ms) || ms < MIN_ISO_MS || ms > MAX_ISO_MS) return undefined;
  return isoFromMs(ms, `.${frac.toString().padStart(6, '0')}`);
}

/** A number or an enumeration/mask name as text; `maskSeparator` joins mask names (XML ' ', JSON '|'). */
export function formatName(item: TtlvItem, ctx: ValueContext, maskSeparator: string): string | undefined {
  if (item.type === 'Enumeration') {
    if (ctx.isTag) return tagName(item.value);
    return (ctx.enumDef && enumValueName(ctx.enumDef, item.value)) ?? hex32(item.value);
  }
  if (item.type === 'Integer' && ctx.maskDef && item.value > 0) {
    const { names, rest } = maskNames(ctx.maskDef, item.value);
    if (rest === 0 && names.length > 0) return names.join(maskSeparator);
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing

const DEC = /^-?\d+$/;
const HEX = /^0x[0-9a-fA-F]+$/;
const ISO = /^(-?\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

function parseHexSigned(s: string, bits: number): bigint | undefined {
  if (!HEX.test(s) || s.length - 2 > bits / 4) return undefined;
  return BigInt.asIntN(bits, BigInt(s));
}

/** A whole number from a JSON number or decimal / `0x` hex text, as a bigint. */
function parseIntegerText(raw: string | number, bits: number, signed: boolean): bigint | undefined {
  if (typeof raw === 'number') return Number.isSafeInteger(raw) ? BigInt(raw) : undefined;
  const s = raw.trim();
  if (DEC.test(s)) return BigInt(s);
  if (!HEX.test(s) || s.length - 2 > bits / 4) return undefined;
  return signed ? parseHexSigned(s, bits) : BigInt(s);
}

function inRange(v: bigint | undefined, min: bigint, max: bigint): v is bigint {
  return v !== undefined && v >= min && v <= max;
}

function parseIso(s: string): { seconds: bigint; fraction: string } | undefined {
  const m = ISO.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, sec, frac, zone] = m as unknown as string[];
  const date = new Date(0);
  date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  date.setUTCHours(Number(h), Number(mi), Number(sec), 0);
  const ms = date.getTime();
  if (Number.isNaN(ms) || date.getUTCDate() !== Number(d) || date.getUTCMonth() !== Number(mo) - 1)
    return undefined;
  if (Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) return undefined;
  let seconds = BigInt(ms / 1000);
  if (zone !== undefined && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1n : 1n;
    const offset = BigInt(Number(zone.slice(1, 3)) * 3600 + Number(zone.slice(4, 6)) * 60);
    seconds -= sign * offset;
  }
  return { seconds, fraction: frac ?? '' };
}

const I32 = [-(1n << 31n), (1n << 31n) - 1n] as const;
const U32 = [0n, (1n << 32n) - 1n] as const;
const I64 = [-(1n << 63n), (1n << 63n) - 1n] as const;

/** Builds an item from its textual (or JSON scalar) value; throws KmipError('invalid_field'). */
export function parseValue(
  tag: number,
  type: ItemType,
  raw: string | number | boolean,
  ctx: ValueContext,
  maskSeparators: RegExp,
): TtlvItem {
  const fail = (what: string): never => {
    throw invalid(tag, type, what);
  };
  if (type === 'Boolean') {
    if (raw === true || raw === 'true' || raw === '1') return { tag, type, value: true };
    if (raw === false || raw === 'false' || raw === '0') return { tag, type, value: false };
    return fail('expected true or false');
  }
  if (typeof raw === 'boolean') return fail('unexpected boolean');
  switch (type) {
    case 'TextString':
      return typeof raw === 'string' ? { tag, type, value: raw } : fail('expected a string');
    case 'ByteString': {
      if (typeof raw !== 'string') return fail('expected hex text');
      const h = raw.startsWith('0x') ? raw.slice(2) : raw;
      if (h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h))
        return fail('expected an even number of hex digits');
      return { tag, type, value: new Uint8Array(Buffer.from(h, 'hex')) };
    }
    case 'Integer': {
      const v = parseIntegerText(raw, 32, true);
      if (inRange(v, I32[0], I32[1])) return { tag, type, value: Number(v) };
      if (typeof raw === 'string' && ctx.maskDef) {
        let mask = 0;
        for (const name of raw.split(maskSeparators).filter((n) => n !== '')) {
          const bit = ctx.maskDef.values[name];
          if (bit === undefined) return fail(`unknown ${ctx.maskDef.name} bit "${name}"`);
          mask = (mask | bit) >>> 0;
        }
        return { tag, type, value: mask | 0 };
      }
      return fail('expected a signed 32-bit integer');
    }
    case 'Enumeration':
    case 'Interval': {
      const v = parseIntegerText(raw, 32, false);
      if (inRange(v, U32[0], U32[1])) return { tag, type, value: Number(v) };
      if (type === 'Enumeration' && typeof raw === 'string') {
        if (ctx.isTag) {
          const t = tagByName(raw);
          if (t !== undefined) return { tag, type, value: t };
        } else if (ctx.enumDef && Object.hasOwn(ctx.enumDef.values, raw)) {
          return { tag, type, value: ctx.enumDef.values[raw]! };
        }
        return fail(`unknown enumeration value "${raw}"`);
      }
      return fail('expected an unsigned 32-bit integer');
    }
    case 'LongInteger': {
      const v = parseIntegerText(raw, 64, true);
      return inRange(v, I64[0], I64[1]) ? { tag, type, value: v } : fail('expected a signed 64-bit integer');
    }
    case 'BigInteger': {
      if (typeof raw === 'number')
        return Number.isSafeInteger(raw) ? { tag, type, value: BigInt(raw) } : fail('not an integer');
      const h = raw.startsWith('0x') ? raw.slice(2) : raw;
      if (h.length === 0 || h.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(h))
        return fail('expected hex bytes');
      return { tag, type, value: BigInt.asIntN(h.length * 4, BigInt(`0x${h}`)) };
    }
    case 'DateTime':
    case 'DateTimeExtended': {
      const iso = typeof raw === 'string' ? parseIso(raw.trim()) : undefined;
      if (iso) {
        if (type === 'DateTime') return { tag, type, value: iso.seconds };
        const micros = BigInt(iso.fraction.padEnd(6, '0').slice(0, 6) || '0');
        return { tag, type, value: iso.seconds * 1_000_000n + micros };
      }
      const v = parseIntegerText(raw, 64, true);
      return inRange(v, I64[0], I64[1]) ? { tag, type, value: v } : fail('expected an ISO 8601 date-time');
    }
    default:
      return fail('not a primitive type');
  }
}
