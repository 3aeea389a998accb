import {
  KmipError,
  Tag,
  asStruct,
  asText,
  child,
  children,
  getInt,
  int,
  struct,
  tagName,
  text,
  type TtlvItem,
} from '../kmip/index.js';
import type { Attr } from './objects.js';
import { tagOfName } from './kmip-values.js';

/**
 * Attributes on the wire, both encodings, to and from the service's model (objects.ts):
 * - KMIP 1.x: Attribute { AttributeName (text), AttributeIndex?, AttributeValue } inside a
 *   TemplateAttribute, or alone; standard names are "Cryptographic Algorithm" style.
 * - KMIP 2.x: Attributes { <each attribute as its own tag> }, custom ones as Attribute
 *   { VendorIdentification, AttributeName, AttributeValue }.
 * Standard attributes are kept under their 2.x tag name with the value re-tagged to that tag;
 * custom attributes under their 1.x text name ("x-Product_Version"), which for 2.x is vendor "x"
 * and attribute name "Product_Version" (split at the first "-").
 */

/** The KMIP 1.x attribute names (KMIP 1.4 §3) that are not simply the tag name with spaces. */
const SPECIAL_1X: ReadonlyMap<string, string> = new Map([
  ['X.509 Certificate Identifier', 'X_509CertificateIdentifier'],
  ['X.509 Certificate Subject', 'X_509CertificateSubject'],
  ['X.509 Certificate Issuer', 'X_509CertificateIssuer'],
]);
const SPECIAL_2X: ReadonlyMap<string, string> = new Map([...SPECIAL_1X].map(([a, b]) => [b, a]));

export function isCustomName(name: string): boolean {
  return tagOfName(name) === undefined;
}

/** 1.x text name → model name ("Cryptographic   Algorithm" → "CryptographicAlgorithm"). */
export function nameFrom1x(raw: string): string {
  const squeezed = raw.trim().replace(/\s+/g, ' ');
  const special = SPECIAL_1X.get(squeezed);
  if (special) return special;
  if (/^[a-z]-/.test(squeezed)) return squeezed;
  const compact = squeezed.replace(/ /g, '');
  return tagOfName(compact) !== undefined && /^[A-Z]/.test(squeezed) ? compact : raw;
}

/** Model name → 1.x text name ("CryptographicAlgorithm" → "Cryptographic Algorithm"). */
export function nameTo1x(name: string): string {
  if (isCustomName(name)) return name;
  return SPECIAL_2X.get(name) ?? name.replace(/([a-z0-9])([A-Z])/g, '$1 $2');
}

function retag(item: TtlvItem, tag: number): TtlvItem {
  return { ...item, tag } as TtlvItem;
}

/** One 1.x Attribute structure → model attribute (and the index it named, if any). */
export function attrFrom1x(item: TtlvItem): { attr: Attr; index: number | undefined } {
  asStruct(item);
  const nameItem = child(item, Tag.AttributeName);
  if (!nameItem) throw new KmipError('invalid_field', 'Attribute: missing AttributeName');
  const name = nameFrom1x(asText(nameItem));
  const index = getInt(item, Tag.AttributeIndex);
  const value = child(item, Tag.AttributeValue);
  if (!value) throw new KmipError('invalid_field', `Attribute ${asText(nameItem)}: missing AttributeValue`);
  const tag = tagOfName(name);
  return { attr: { name, value: tag === undefined ? value : retag(value, tag) }, index };
}

/** One 2.x attribute item (a child of Attributes, NewAttribute, CurrentAttribute) → model attribute. */
export function attrFrom2x(item: TtlvItem): Attr {
  if (item.tag === Tag.Attribute && child(item, Tag.VendorIdentification)) {
    const vendor = asText(requireIn(item, Tag.VendorIdentification));
    const n = asText(requireIn(item, Tag.AttributeName));
    const value = requireIn(item, Tag.AttributeValue);
    return { name: `${vendor}-${n}`, value };
  }
  if (item.tag === Tag.Attribute) return attrFrom1x(item).attr;
  return { name: tagName(item.tag), value: item };
}

function requireIn(s: TtlvItem, tag: number): TtlvItem {
  const c = child(s, tag);
  if (!c) throw new KmipError('invalid_field', `${tagName(s.tag)}: missing ${tagName(tag)}`);
  return c;
}

/** The attributes of a Create/Register/Locate payload, whichever version's encoding it uses. */
export function attrsOfPayload(payload: TtlvItem): Attr[] {
  const out: Attr[] = [];
  const attributes = child(payload, Tag.Attributes);
  if (attributes) for (const a of asStruct(attributes).value) out.push(attrFrom2x(a));
  const template = child(payload, Tag.TemplateAttribute);
  if (template) for (const a of children(template, Tag.Attribute)) out.push(attrFrom1x(a).attr);
  for (const a of children(payload, Tag.Attribute)) out.push(attrFrom1x(a).attr);
  return out;
}

/** Model attribute → 1.x Attribute structure (with its Attribute Index when it is not the first instance). */
export function attrTo1x(a: Attr, index = 0): TtlvItem {
  return struct(Tag.Attribute, [
    text(Tag.AttributeName, nameTo1x(a.name)),
    ...(index > 0 ? [int(Tag.AttributeIndex, index)] : []),
    retag(a.value, Tag.AttributeValue),
  ]);
}

/** Model attributes → 1.x Attribute structures, numbering the instances of each name. */
export function attrsTo1x(attrs: readonly Attr[]): TtlvItem[] {
  const seen = new Map<string, number>();
  return attrs.map((a) => {
    const i = seen.get(a.name) ?? 0;
    seen.set(a.name, i + 1);
    return attrTo1x(a, i);
  });
}

/** Model attribute → 2.x item (an Attribute with VendorIdentification for custom names). */
export function attrTo2x(a: Attr): TtlvItem {
  const tag = tagOfName(a.name);
  if (tag !== undefined) return retag(a.value, tag);
  const dash = a.name.indexOf('-');
  const vendor = dash > 0 ? a.name.slice(0, dash) : '';
  const n = dash > 0 ? a.name.slice(dash + 1) : a.name;
  return struct(Tag.Attribute, [
    text(Tag.VendorIdentification, vendor),
    text(Tag.AttributeName, n),
    retag(a.value, Tag.AttributeValue),
  ]);
}

export function isV2(v: { major: number }): boolean {
  return v.major >= 2;
}
