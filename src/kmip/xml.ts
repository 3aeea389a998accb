/**
 * The XML encoding of KMIP (KMIP Additional Message Encodings v1.0 §5), as the OASIS profile test
 * vectors use it: one element per item, named by its tag (`<TTLV tag="0x54xxxx">` for a tag without
 * a name), with `type` (absent for a Structure) and `value` attributes. Enumerations by name, masks
 * as space-separated names, ByteString and BigInteger in hex, DateTime in ISO 8601.
 */
import { KmipError } from './errors.js';
import { tagByName, tagHex, isKnownTag, tagName, Tag } from './tags.js';
import { bigIntHex, formatName, isoMicros, isoSeconds, parseValue, valueContext } from './text-values.js';
import { escapeXmlAttr, parseXml, type XmlElement } from './xml-parse.js';
import { ITEM_TYPE_CODE, type ItemType, type TtlvItem } from './ttlv-types.js';
import type { TtlvLimits } from './ttlv.js';

export interface XmlToTtlvOptions {
  readonly limits?: Partial<TtlvLimits>;
  /**
   * Called for every `value` that starts with `$` (the vectors' placeholders such as `$NOW` or
   * `$UNIQUE_IDENTIFIER_0`); returns the item to use, or undefined to parse the text as it is.
   */
  readonly placeholder?: (p: { tag: number; type: ItemType; value: string }) => TtlvItem | undefined;
}

const MASK_SEPARATORS = /[\s|]+/;

function bad(el: XmlElement, what: string): KmipError {
  return new KmipError('invalid_message', `XML <${el.name}> at character ${el.offset}: ${what}`);
}

function elementTag(el: XmlElement): number {
  if (el.name === 'TTLV') {
    const t = el.attrs.get('tag');
    const n = t === undefined ? undefined : tagByName(t);
    if (n === undefined) throw bad(el, 'TTLV element without a tag="0xXXXXXX" attribute');
    return n;
  }
  const n = tagByName(el.name);
  if (n === undefined) throw bad(el, 'unknown tag name');
  return n;
}

function itemType(el: XmlElement): ItemType {
  const t = el.attrs.get('type') ?? 'Structure';
  if (!Object.hasOwn(ITEM_TYPE_CODE, t)) throw bad(el, `unknown type "${t}"`);
  return t as ItemType;
}

function convert(el: XmlElement, opts: XmlToTtlvOptions, attributeName: string | undefined): TtlvItem {
  const tag = elementTag(el);
  const type = itemType(el);
  if (type === 'Structure') {
    if (el.attrs.has('value')) throw bad(el, 'a Structure has no value attribute');
    const nameEl = el.children.find((c) => c.name === 'AttributeName');
    const name = nameEl?.attrs.get('value');
    return { tag, type, value: el.children.map((c) => convert(c, opts, name)) };
  }
  if (el.children.length > 0) throw bad(el, `a ${type} has no child elements`);
  const raw = el.attrs.get('value');
  if (raw === undefined) {
    if (type === 'TextString' || type === 'ByteString') return parseValue(tag, type, '', {}, MASK_SEPARATORS);
    throw bad(el, 'missing value attribute');
  }
  if (raw.startsWith('$') && opts.placeholder) {
    const item = opts.placeholder({ tag, type, value: raw });
    if (item !== undefined) return item;
  }
  return parseValue(tag, type, raw, valueContext(tag, attributeName), MASK_SEPARATORS);
}

/** Converts a parsed XML element (e.g. one `<RequestMessage>` of a vector file) to a TTLV item. */
export function xmlElementToTtlv(el: XmlElement, opts: XmlToTtlvOptions = {}): TtlvItem {
  return convert(el, opts, undefined);
}

/** Parses the XML encoding of one item (usually a RequestMessage or ResponseMessage). */
export function xmlToTtlv(xml: string, opts: XmlToTtlvOptions = {}): TtlvItem {
  return convert(parseXml(xml, opts.limits), opts, undefined);
}

// ---------------------------------------------------------------------------------------------------------------

/** The text of the `value` attribute for a primitive item. */
function xmlValue(item: TtlvItem, attributeName: string | undefined): string {
  const named = formatName(item, valueContext(item.tag, attributeName), ' ');
  if (named !== undefined) return named;
  switch (item.type) {
    case 'Integer':
    case 'Enumeration':
    case 'Interval':
    case 'LongInteger':
      return String(item.value);
    case 'BigInteger':
      return bigIntHex(item.value);
    case 'Boolean':
      return item.value ? 'true' : 'false';
    case 'TextString':
      return item.value;
    case 'ByteString':
      return Buffer.from(item.value.buffer, item.value.byteOffset, item.value.byteLength).toString('hex');
    case 'DateTime':
      return isoSeconds(item.value) ?? String(item.value);
    case 'DateTimeExtended':
      return isoMicros(item.value) ?? String(item.value);
    case 'Structure':
      throw new KmipError('invalid_field', 'a Structure has no value');
  }
}

function write(
  item: TtlvItem,
  out: string[],
  indent: string,
  pretty: boolean,
  attributeName: string | undefined,
): void {
  const known = isKnownTag(item.tag);
  const open = known ? tagName(item.tag) : `TTLV tag="${tagHex(item.tag)}"`;
  const close = known ? tagName(item.tag) : 'TTLV';
  const nl = pretty ? '\n' : '';
  if (item.type === 'Structure') {
    if (item.value.length === 0) {
      out.push(`${indent}<${open}/>${nl}`);
      return;
    }
    out.push(`${indent}<${open}>${nl}`);
    const nameItem = item.value.find((c) => c.tag === Tag.AttributeName && c.type === 'TextString');
    const name = nameItem?.type === 'TextString' ? nameItem.value : undefined;
    for (const c of item.value) write(c, out, pretty ? `${indent}  ` : '', pretty, name);
    out.push(`${indent}</${close}>${nl}`);
    return;
  }
  out.push(
    `${indent}<${open} type="${item.type}" value="${escapeXmlAttr(xmlValue(item, attributeName))}"/>${nl}`,
  );
}

/** The XML encoding of an item; `pretty` indents by two spaces per level (default true). */
export function ttlvToXml(item: TtlvItem, opts: { pretty?: boolean } = {}): string {
  const out: string[] = [];
  write(item, out, '', opts.pretty ?? true, undefined);
  return out.join('');
}
