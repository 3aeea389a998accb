import {
  KeyFormatType,
  KmipError,
  Tag,
  bytes,
  decodeTtlv,
  enumItem,
  int,
  struct,
  type TtlvItem,
} from '../kmip/index.js';
import { enumValue } from './kmip-values.js';
import { firstAttr, type ManagedObject } from './objects.js';

/**
 * Building the object structure Get returns (SymmetricKey, SecretData, OpaqueObject, or the
 * registered structure as-is), in the requested Key Format Type, optionally with wrapped key
 * material and its Key Wrapping Data.
 */
export interface WrappedMaterial {
  readonly bytes: Uint8Array;
  /** The KeyWrappingData structure describing how it was wrapped. */
  readonly wrappingData: TtlvItem;
  /** True when the wrapped bytes are the TTLV-encoded Key Value (Encoding Option TTLV Encoding). */
  readonly ttlvEncoded: boolean;
}

/** Key Format Types a 'key' object can be given out in, by object type. */
function allowedFormats(obj: ManagedObject): string[] {
  switch (obj.objectType) {
    case 'SymmetricKey':
      return ['Raw', 'TransparentSymmetricKey'];
    case 'SecretData':
      return ['Opaque', 'Raw'];
    default:
      return [];
  }
}

export function defaultFormat(obj: ManagedObject): string {
  if (obj.keyFormatType) return obj.keyFormatType;
  return obj.objectType === 'SecretData' ? 'Opaque' : 'Raw';
}

/** Checks that a requested Key Format Type is one the object can be returned in. */
export function checkFormat(obj: ManagedObject, requested: string | undefined): string {
  const format = requested ?? defaultFormat(obj);
  if (obj.form === 'object') {
    if (requested !== undefined && requested !== obj.keyFormatType) {
      throw new KmipError('key_format_type_not_supported', `the object is kept as ${obj.keyFormatType ?? 'registered'} only`);
    }
    return format;
  }
  if (obj.objectType === 'OpaqueObject') {
    if (requested !== undefined) throw new KmipError('key_format_type_not_supported', 'opaque objects have no key format');
    return format;
  }
  if (format !== obj.keyFormatType && !allowedFormats(obj).includes(format)) {
    throw new KmipError('key_format_type_not_supported', `the KMS cannot return this object as ${format}`);
  }
  return format;
}

function keyBlock(obj: ManagedObject, format: string, material: Uint8Array | null, wrapped: WrappedMaterial | undefined): TtlvItem {
  const children: TtlvItem[] = [enumItem(Tag.KeyFormatType, enumValue(Tag.KeyFormatType, format) ?? KeyFormatType.Raw)];
  // Wrapped with TTLV encoding, the Key Value is the wrapped bytes themselves; with No Encoding
  // the Key Value structure holds the wrapped key material (KMIP 1.4 §2.1.4, 2.1.5).
  if (wrapped && wrapped.ttlvEncoded) children.push(bytes(Tag.KeyValue, wrapped.bytes));
  else if (wrapped) children.push(struct(Tag.KeyValue, [bytes(Tag.KeyMaterial, wrapped.bytes)]));
  else if (material === null) {
    // Registered without a value (Key Value Location): the Key Block has no Key Value.
  } else if (format === 'TransparentSymmetricKey') children.push(struct(Tag.KeyValue, [struct(Tag.KeyMaterial, [bytes(Tag.Key, material)])]));
  else children.push(struct(Tag.KeyValue, [bytes(Tag.KeyMaterial, material)]));
  const alg = firstAttr(obj, 'CryptographicAlgorithm');
  if (alg) children.push({ ...alg, tag: Tag.CryptographicAlgorithm } as TtlvItem);
  const len = firstAttr(obj, 'CryptographicLength');
  if (obj.objectType === 'SymmetricKey') {
    children.push(len ? ({ ...len, tag: Tag.CryptographicLength } as TtlvItem) : int(Tag.CryptographicLength, (material?.length ?? 0) * 8));
  }
  if (wrapped) children.push(wrapped.wrappingData);
  return struct(Tag.KeyBlock, children);
}

/** A Secret/Opaque Data Type kept by name, or by number when the value is vendor-defined. */
function subtypeValue(tag: number, kept: string): number {
  return enumValue(tag, kept) ?? (Number(kept) >>> 0);
}

/** The object structure for Get. `material` is the plaintext (for 'key' objects). */
export function objectStructure(obj: ManagedObject, format: string, wrapped?: WrappedMaterial): TtlvItem {
  if (obj.form === 'object') {
    if (!obj.material) throw new KmipError('key_value_not_present', 'the object has no key material');
    return decodeTtlv(obj.material, { maxMessageBytes: Number.MAX_SAFE_INTEGER, maxDepth: 64 });
  }
  const material = obj.material;
  switch (obj.objectType) {
    case 'SymmetricKey':
      return struct(Tag.SymmetricKey, [keyBlock(obj, format, material, wrapped)]);
    case 'SecretData':
      return struct(Tag.SecretData, [
        enumItem(Tag.SecretDataType, subtypeValue(Tag.SecretDataType, obj.subtype ?? 'Password')),
        keyBlock(obj, format, material, wrapped),
      ]);
    case 'OpaqueObject':
      if (!material) throw new KmipError('key_value_not_present', 'the object has no value');
      return struct(Tag.OpaqueObject, [
        enumItem(Tag.OpaqueDataType, subtypeValue(Tag.OpaqueDataType, obj.subtype ?? 'None')),
        bytes(Tag.OpaqueDataValue, material),
      ]);
    default:
      throw new KmipError('general_failure', 'the object cannot be returned');
  }
}
