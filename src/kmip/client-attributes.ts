/**
 * How the client places attributes in its requests and finds them in responses, in both encodings,
 * on top of the attribute model of attributes.ts (`{ name: 1.x name, value tagged AttributeValue }`):
 * - KMIP 1.x: Create and Register carry a Template-Attribute; Locate lists bare `Attribute`s;
 *   GetAttributes names attributes by Attribute Name and answers with `Attribute`s;
 * - KMIP 2.x: Create, Register and Locate carry one `Attributes`; GetAttributes names attributes
 *   by Attribute Reference (the tag as an Enumeration, as PyKMIP sends it) and answers with `Attributes`.
 */
import { Tag } from './tags.js';
import { NameType } from './enums.js';
import { struct, text, enumItem, int, child, children } from './ttlv.js';
import type { TtlvItem } from './ttlv-types.js';
import type { ProtocolVersion } from './messages.js';
import {
  attributeFrom1x,
  attributeReference,
  attributeTo1x,
  attributesFrom2x,
  attributesTo2x,
  writeAttributes,
  type KmipAttribute,
} from './attributes.js';

const isKmip2 = (v: ProtocolVersion): boolean => v.major >= 2;

/** The attributes of a Create or Register: a Template-Attribute (1.x) or Attributes (2.x). */
export function attributeGroup(v: ProtocolVersion, attrs: readonly KmipAttribute[]): TtlvItem {
  return writeAttributes(attrs, v.major);
}

/** The criteria of a Locate: bare Attribute items (1.x) or one Attributes structure (2.x). */
export function locateAttributes(v: ProtocolVersion, attrs: readonly KmipAttribute[]): TtlvItem[] {
  if (isKmip2(v)) return attrs.length > 0 ? [attributesTo2x(attrs)] : [];
  return attrs.map(attributeTo1x);
}

/** The attribute selectors of a GetAttributes request (1.x names). */
export function attributeSelectors(v: ProtocolVersion, names: readonly string[]): TtlvItem[] {
  return isKmip2(v) ? names.map(attributeReference) : names.map((n) => text(Tag.AttributeName, n));
}

/** The attributes of a GetAttributes response payload, from either encoding. */
export function responseAttributes(payload: TtlvItem): KmipAttribute[] {
  const out = children(payload, Tag.Attribute).map(attributeFrom1x);
  const group = child(payload, Tag.Attributes);
  if (group !== undefined) out.push(...attributesFrom2x(group));
  return out;
}

/** An attribute whose value is an Enumeration (e.g. Cryptographic Algorithm, State, Object Type). */
export function enumAttribute(name: string, value: number): KmipAttribute {
  return { name, value: enumItem(Tag.AttributeValue, value) };
}

/** An attribute whose value is an Integer (e.g. Cryptographic Length, Cryptographic Usage Mask). */
export function intAttribute(name: string, value: number): KmipAttribute {
  return { name, value: int(Tag.AttributeValue, value) };
}

/** The Name attribute: `Name { Name Value, Name Type = Uninterpreted Text String }`. */
export function nameAttribute(name: string): KmipAttribute {
  return {
    name: 'Name',
    value: struct(Tag.AttributeValue, [
      text(Tag.NameValue, name),
      enumItem(Tag.NameType, NameType.UninterpretedTextString),
    ]),
  };
}
