/**
 * Attributes as the client sends and reads them, in both encodings:
 * - KMIP 1.x: `Attribute { Attribute Name (text, e.g. "Cryptographic Algorithm"), Attribute Value }`,
 *   grouped in a Template-Attribute for Create and Register, listed bare in Locate and GetAttributes;
 * - KMIP 2.x: each attribute is an item with its own tag, grouped in `Attributes`; GetAttributes
 *   names them by Attribute Reference (an Enumeration holding the attribute's tag, as PyKMIP sends).
 *
 * Inside the client an attribute is one TTLV item tagged with the attribute's own tag (the 2.x form);
 * these functions convert it to and from the 1.x form. Custom (`x-`) attributes exist only in 1.x here.
 */
import { CommonError } from '../common/errors.js';
import { Tag, tagByName, tagName } from './tags.js';
import { struct, text, enumItem, child, children, asText } from './ttlv.js';
import { NameType } from './enums.js';
import type { TtlvItem } from './ttlv-types.js';

/** An attribute read from a response: its 1.x name, its index when sent, and its value. */
export interface KmipAttribute {
  /** The KMIP 1.x attribute name, e.g. `Cryptographic Algorithm`, or a custom `x-` name. */
  readonly name: string;
  readonly index?: number;
  /** The value, tagged with the attribute's own tag (Attribute Value for custom attributes). */
  readonly value: TtlvItem;
}

export interface ProtocolVersion {
  readonly major: number;
  readonly minor: number;
}

export const isKmip2 = (v: ProtocolVersion): boolean => v.major >= 2;

/** `CryptographicUsageMask` → `Cryptographic Usage Mask` (the 1.x attribute name of a tag name). */
export function attributeNameOfTag(tag: number): string {
  return tagName(tag).replace(/([a-z0-9])([A-Z])/g, '$1 $2');
}

/** `Cryptographic Usage Mask` → the tag, or undefined for custom and unknown names. */
export function attributeTagOfName(name: string): number | undefined {
  if (name.startsWith('x-') || name.startsWith('y-')) return undefined;
  return tagByName(name.replace(/ /g, ''));
}

function retag(item: TtlvItem, tag: number): TtlvItem {
  return { ...item, tag } as TtlvItem;
}

/** One attribute in the 1.x form. */
export function attribute1x(item: TtlvItem): TtlvItem {
  return struct(Tag.Attribute, [text(Tag.AttributeName, attributeNameOfTag(item.tag)), retag(item, Tag.AttributeValue)]);
}

/**
 * The attributes of a Create or Register: a Template-Attribute (1.x) or Attributes (2.x).
 */
export function attributeGroup(v: ProtocolVersion, items: readonly TtlvItem[]): TtlvItem {
  return isKmip2(v) ? struct(Tag.Attributes, items) : struct(Tag.TemplateAttribute, items.map(attribute1x));
}

/** The attributes of a Locate: bare Attribute items (1.x) or one Attributes structure (2.x). */
export function locateAttributes(v: ProtocolVersion, items: readonly TtlvItem[]): TtlvItem[] {
  if (isKmip2(v)) return items.length > 0 ? [struct(Tag.Attributes, items)] : [];
  return items.map(attribute1x);
}

/** The attribute selectors of a GetAttributes request (names in 1.x form). */
export function attributeSelectors(v: ProtocolVersion, names: readonly string[]): TtlvItem[] {
  if (!isKmip2(v)) return names.map((n) => text(Tag.AttributeName, n));
  return names.map((n) => {
    const tag = attributeTagOfName(n);
    if (tag === undefined) throw new CommonError('not_supported', `attribute ${JSON.stringify(n)} cannot be named at KMIP 2.x by this client`);
    return enumItem(Tag.AttributeReference, tag);
  });
}

/** The attributes of a response payload, from either encoding. */
export function readAttributes(payload: TtlvItem): KmipAttribute[] {
  const out: KmipAttribute[] = [];
  for (const a of children(payload, Tag.Attribute)) {
    const nameItem = child(a, Tag.AttributeName);
    const value = child(a, Tag.AttributeValue);
    if (nameItem === undefined || value === undefined) continue;
    const name = asText(nameItem);
    const idx = child(a, Tag.AttributeIndex);
    const tag = attributeTagOfName(name);
    out.push({
      name,
      ...(idx !== undefined && idx.type === 'Integer' ? { index: idx.value } : {}),
      value: tag === undefined ? value : retag(value, tag),
    });
  }
  const group = child(payload, Tag.Attributes);
  if (group !== undefined && group.type === 'Structure') {
    for (const item of group.value) out.push({ name: attributeNameOfTag(item.tag), value: item });
  }
  return out;
}

/** The Name attribute value: `Name { Name Value, Name Type = Uninterpreted Text String }`. */
export function nameAttribute(name: string): TtlvItem {
  return struct(Tag.Name, [text(Tag.NameValue, name), enumItem(Tag.NameType, NameType.UninterpretedTextString)]);
}
