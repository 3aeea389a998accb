/**
 * The normalized attribute model and its two wire encodings:
 * - KMIP 1.x: `Attribute { AttributeName, AttributeIndex?, AttributeValue }`, grouped in a
 *   TemplateAttribute (or Common/PrivateKey/PublicKey TemplateAttribute);
 * - KMIP 2.x: each attribute is an item tagged with its own tag, grouped in Attributes (or
 *   Common/PrivateKey/PublicKey Attributes); a custom attribute (1.x name `x-Name`, `y-Name` or
 *   `vendor-Name`) is `Attribute { VendorIdentification, AttributeName, AttributeValue }`.
 *
 * In the model, `name` is the 1.x attribute name ("Cryptographic Algorithm", "x-Product_Version")
 * and `value` is always tagged AttributeValue; conversions re-tag it. 1.x attribute names: OASIS KMIP
 * Specification v1.4 §3 (cross-checked with PyKMIP's attribute_name_tag_table).
 */
import { KmipError } from './errors.js';
import { Tag, tagName, type TagName } from './tags.js';
import { child, children, getInt, getText, reqText, struct, text, int, asStruct } from './ttlv.js';
import type { TtlvItem } from './ttlv-types.js';

export interface KmipAttribute {
  /** KMIP 1.x attribute name, e.g. 'Cryptographic Algorithm' or 'x-Product_Version'. */
  readonly name: string;
  /** KMIP 1.x Attribute Index (absent means 0 / the only instance). 2.x has no index. */
  readonly index?: number;
  /** The value, tagged AttributeValue (a Structure for Name, Link, Cryptographic Parameters...). */
  readonly value: TtlvItem;
}

/** Standard attribute names of KMIP 1.0–1.4 (and 2.x attributes under their spec name) → tag. */
const STANDARD: readonly (readonly [string, TagName])[] = [
  ['Activation Date', 'ActivationDate'],
  ['Alternative Name', 'AlternativeName'],
  ['Always Sensitive', 'AlwaysSensitive'],
  ['Application Specific Information', 'ApplicationSpecificInformation'],
  ['Archive Date', 'ArchiveDate'],
  ['Attribute', 'Attribute'],
  ['Certificate Identifier', 'CertificateIdentifier'],
  ['Certificate Issuer', 'CertificateIssuer'],
  ['Certificate Issuer C', 'CertificateIssuerC'],
  ['Certificate Issuer CN', 'CertificateIssuerCN'],
  ['Certificate Issuer DC', 'CertificateIssuerDC'],
  ['Certificate Issuer DN Qualifier', 'CertificateIssuerDNQualifier'],
  ['Certificate Issuer Email', 'CertificateIssuerEmail'],
  ['Certificate Issuer L', 'CertificateIssuerL'],
  ['Certificate Issuer O', 'CertificateIssuerO'],
  ['Certificate Issuer OU', 'CertificateIssuerOU'],
  ['Certificate Issuer Serial Number', 'CertificateIssuerSerialNumber'],
  ['Certificate Issuer ST', 'CertificateIssuerST'],
  ['Certificate Issuer Title', 'CertificateIssuerTitle'],
  ['Certificate Issuer UID', 'CertificateIssuerUID'],
  ['Certificate Length', 'CertificateLength'],
  ['Certificate Subject', 'CertificateSubject'],
  ['Certificate Subject C', 'CertificateSubjectC'],
  ['Certificate Subject CN', 'CertificateSubjectCN'],
  ['Certificate Subject DC', 'CertificateSubjectDC'],
  ['Certificate Subject DN Qualifier', 'CertificateSubjectDNQualifier'],
  ['Certificate Subject Email', 'CertificateSubjectEmail'],
  ['Certificate Subject L', 'CertificateSubjectL'],
  ['Certificate Subject O', 'CertificateSubjectO'],
  ['Certificate Subject OU', 'CertificateSubjectOU'],
  ['Certificate Subject Serial Number', 'CertificateSubjectSerialNumber'],
  ['Certificate Subject ST', 'CertificateSubjectST'],
  ['Certificate Subject Title', 'CertificateSubjectTitle'],
  ['Certificate Subject UID', 'CertificateSubjectUID'],
  ['Certificate Type', 'CertificateType'],
  ['Comment', 'Comment'],
  ['Compromise Date', 'CompromiseDate'],
  ['Compromise Occurrence Date', 'CompromiseOccurrenceDate'],
  ['Contact Information', 'ContactInformation'],
  ['Cryptographic Algorithm', 'CryptographicAlgorithm'],
  ['Cryptographic Domain Parameters', 'CryptographicDomainParameters'],
  ['Cryptographic Length', 'CryptographicLength'],
  ['Cryptographic Parameters', 'CryptographicParameters'],
  ['Cryptographic Usage Mask', 'CryptographicUsageMask'],
  ['Custom Attribute', 'CustomAttribute'],
  ['Deactivation Date', 'DeactivationDate'],
  ['Description', 'Description'],
  ['Destroy Date', 'DestroyDate'],
  ['Digest', 'Digest'],
  ['Digital Signature Algorithm', 'DigitalSignatureAlgorithm'],
  ['Extractable', 'Extractable'],
  ['Fresh', 'Fresh'],
  ['Initial Date', 'InitialDate'],
  ['Key Format Type', 'KeyFormatType'],
  ['Key Value Location', 'KeyValueLocation'],
  ['Key Value Present', 'KeyValuePresent'],
  ['Last Change Date', 'LastChangeDate'],
  ['Lease Time', 'LeaseTime'],
  ['Link', 'Link'],
  ['Name', 'Name'],
  ['Never Extractable', 'NeverExtractable'],
  ['NIST Key Type', 'NISTKeyType'],
  ['Object Group', 'ObjectGroup'],
  ['Object Type', 'ObjectType'],
  ['Opaque Data Type', 'OpaqueDataType'],
  ['Operation Policy Name', 'OperationPolicyName'],
  ['Original Creation Date', 'OriginalCreationDate'],
  ['PKCS#12 Friendly Name', 'PKCS_12FriendlyName'],
  ['Process Start Date', 'ProcessStartDate'],
  ['Protect Stop Date', 'ProtectStopDate'],
  ['Protection Level', 'ProtectionLevel'],
  ['Protection Period', 'ProtectionPeriod'],
  ['Protection Storage Mask', 'ProtectionStorageMask'],
  ['Quantum Safe', 'QuantumSafe'],
  ['Random Number Generator', 'RandomNumberGenerator'],
  ['Revocation Reason', 'RevocationReason'],
  ['Sensitive', 'Sensitive'],
  ['Short Unique Identifier', 'ShortUniqueIdentifier'],
  ['State', 'State'],
  ['Unique Identifier', 'UniqueIdentifier'],
  ['Usage Limits', 'UsageLimits'],
  ['X.509 Certificate Identifier', 'X_509CertificateIdentifier'],
  ['X.509 Certificate Issuer', 'X_509CertificateIssuer'],
  ['X.509 Certificate Subject', 'X_509CertificateSubject'],
];

const TAG_BY_NAME: ReadonlyMap<string, number> = new Map(STANDARD.map(([n, t]) => [n, Tag[t]]));
const NAME_BY_TAG: ReadonlyMap<number, string> = new Map(STANDARD.map(([n, t]) => [Tag[t], n]));

/** The tag of a standard attribute by its 1.x name, or undefined for custom/unknown names. */
export function attributeTag(name: string): number | undefined {
  return TAG_BY_NAME.get(name);
}

/** The 1.x name of a standard attribute tag (falls back to the tag's CamelCase name). */
export function attributeNameOfTag(tag: number): string {
  return NAME_BY_TAG.get(tag) ?? tagName(tag);
}

/** Whether a name is a custom attribute name (`x-…`, `y-…` or `vendor-…`; KMIP 1.x §3.40). */
export function isCustomAttributeName(name: string): boolean {
  return !TAG_BY_NAME.has(name) && /^[^-\s]+-./.test(name);
}

function retag(item: TtlvItem, tag: number): TtlvItem {
  return item.tag === tag ? item : ({ ...item, tag } as TtlvItem);
}

// ---------------------------------------------------------------------------------------------------------------
// KMIP 1.x

/** Reads one 1.x `Attribute` structure. */
export function attributeFrom1x(item: TtlvItem): KmipAttribute {
  asStruct(item);
  const name = reqText(item, Tag.AttributeName);
  const index = getInt(item, Tag.AttributeIndex);
  const value = child(item, Tag.AttributeValue);
  if (value === undefined)
    throw new KmipError('invalid_field', `Attribute "${name}": missing AttributeValue`);
  if (index !== undefined && index < 0)
    throw new KmipError('invalid_field', `Attribute "${name}": negative index`);
  return index === undefined || index === 0 ? { name, value } : { name, index, value };
}

/** Writes one attribute as a 1.x `Attribute` structure (the index only when non-zero). */
export function attributeTo1x(attr: KmipAttribute): TtlvItem {
  const parts: TtlvItem[] = [text(Tag.AttributeName, attr.name)];
  if (attr.index !== undefined && attr.index !== 0) parts.push(int(Tag.AttributeIndex, attr.index));
  parts.push(retag(attr.value, Tag.AttributeValue));
  return struct(Tag.Attribute, parts);
}

/** Reads the attributes of a 1.x TemplateAttribute (or Common/PrivateKey/PublicKey TemplateAttribute). */
export function attributesFromTemplate(item: TtlvItem): KmipAttribute[] {
  asStruct(item);
  if (child(item, Tag.Name) !== undefined)
    throw new KmipError(
      'feature_not_supported',
      'Template references (Name in a TemplateAttribute) are not supported',
    );
  return children(item, Tag.Attribute).map(attributeFrom1x);
}

/** Writes a 1.x TemplateAttribute (or another tag such as CommonTemplateAttribute). */
export function attributesToTemplate(
  attrs: readonly KmipAttribute[],
  tag: number = Tag.TemplateAttribute,
): TtlvItem {
  return struct(tag, attrs.map(attributeTo1x));
}

// ---------------------------------------------------------------------------------------------------------------
// KMIP 2.x

function splitCustomName(name: string): { vendor: string; attr: string } {
  const dash = name.indexOf('-');
  if (dash <= 0 || dash === name.length - 1)
    throw new KmipError(
      'unsupported_attribute',
      `attribute "${name}" is neither standard nor custom (vendor-Name)`,
    );
  return { vendor: name.slice(0, dash), attr: name.slice(dash + 1) };
}

/** Reads one 2.x attribute item: a tagged standard attribute or a vendor `Attribute` structure. */
export function attributeFrom2x(item: TtlvItem): KmipAttribute {
  if (item.tag === Tag.Attribute) {
    const vendor = getText(item, Tag.VendorIdentification);
    const attr = reqText(item, Tag.AttributeName);
    const value = child(item, Tag.AttributeValue);
    if (value === undefined)
      throw new KmipError('invalid_field', `Attribute "${attr}": missing AttributeValue`);
    // A 2.x Attribute without a vendor is the 1.x form; keep its name as it is.
    return { name: vendor === undefined ? attr : `${vendor}-${attr}`, value };
  }
  return { name: attributeNameOfTag(item.tag), value: retag(item, Tag.AttributeValue) };
}

/** Writes one attribute in the 2.x form. Custom names become vendor attributes. */
export function attributeTo2x(attr: KmipAttribute): TtlvItem {
  const tag = TAG_BY_NAME.get(attr.name) ?? standardTagByCamelName(attr.name);
  if (tag !== undefined) return retag(attr.value, tag);
  const { vendor, attr: name } = splitCustomName(attr.name);
  return struct(Tag.Attribute, [
    text(Tag.VendorIdentification, vendor),
    text(Tag.AttributeName, name),
    retag(attr.value, Tag.AttributeValue),
  ]);
}

function standardTagByCamelName(name: string): number | undefined {
  if (!Object.hasOwn(Tag, name)) return undefined;
  const tag = Tag[name as TagName];
  return NAME_BY_TAG.has(tag) ? tag : undefined;
}

/** Reads a 2.x Attributes structure (or Common/PrivateKey/PublicKey Attributes). */
export function attributesFrom2x(item: TtlvItem): KmipAttribute[] {
  return asStruct(item).value.map(attributeFrom2x);
}

/** Writes a 2.x Attributes structure (or another tag such as CommonAttributes). */
export function attributesTo2x(attrs: readonly KmipAttribute[], tag: number = Tag.Attributes): TtlvItem {
  return struct(tag, attrs.map(attributeTo2x));
}

/** The 2.x grouping tag for a 1.x template tag and back. */
export const TEMPLATE_TAG_PAIRS: readonly (readonly [number, number])[] = [
  [Tag.TemplateAttribute, Tag.Attributes],
  [Tag.CommonTemplateAttribute, Tag.CommonAttributes],
  [Tag.PrivateKeyTemplateAttribute, Tag.PrivateKeyAttributes],
  [Tag.PublicKeyTemplateAttribute, Tag.PublicKeyAttributes],
];

/** Reads attributes from either a 1.x template or a 2.x Attributes structure, by its tag. */
export function readAttributes(item: TtlvItem): KmipAttribute[] {
  for (const [t1, t2] of TEMPLATE_TAG_PAIRS) {
    if (item.tag === t1) return attributesFromTemplate(item);
    if (item.tag === t2) return attributesFrom2x(item);
  }
  throw new KmipError('invalid_field', `${tagName(item.tag)} is not an attribute group`);
}

/**
 * Writes attributes for a protocol version: 1.x TemplateAttribute (or the given 1.x tag) for major
 * version 1, 2.x Attributes (the matching 2.x tag) for major 2 and later.
 */
export function writeAttributes(
  attrs: readonly KmipAttribute[],
  major: number,
  tag1x: number = Tag.TemplateAttribute,
): TtlvItem {
  if (major < 2) return attributesToTemplate(attrs, tag1x);
  const pair = TEMPLATE_TAG_PAIRS.find(([t1]) => t1 === tag1x);
  return attributesTo2x(attrs, pair?.[1] ?? Tag.Attributes);
}

// ---------------------------------------------------------------------------------------------------------------
// Attribute references (2.x GetAttributes / DeleteAttribute): an Enumeration holding the attribute's
// tag, or { VendorIdentification, AttributeName } for a custom attribute. 1.x uses AttributeName text.

/** The 1.x attribute name an attribute reference (2.x) or AttributeName (1.x) designates. */
export function attributeReferenceName(item: TtlvItem): string {
  if (item.type === 'TextString') return item.value;
  if (item.type === 'Enumeration') return attributeNameOfTag(item.value);
  if (item.type === 'Structure') {
    const vendor = reqText(item, Tag.VendorIdentification);
    return `${vendor}-${reqText(item, Tag.AttributeName)}`;
  }
  throw new KmipError('invalid_field', `${tagName(item.tag)}: not an attribute reference`);
}

/** A 2.x AttributeReference for an attribute name. */
export function attributeReference(name: string): TtlvItem {
  const tag = TAG_BY_NAME.get(name) ?? standardTagByCamelName(name);
  if (tag !== undefined) return { tag: Tag.AttributeReference, type: 'Enumeration', value: tag };
  const { vendor, attr } = splitCustomName(name);
  return struct(Tag.AttributeReference, [
    text(Tag.VendorIdentification, vendor),
    text(Tag.AttributeName, attr),
  ]);
}
