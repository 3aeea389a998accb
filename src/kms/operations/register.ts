import { KmipError, Tag, asBytes, asEnum, child, encodeTtlv, tagByName, type TtlvItem } from '../../kmip/index.js';
import { attrsOfPayload } from '../attribute-io.js';
import { enumName } from '../kmip-values.js';
import { findAttr, type Attr } from '../objects.js';
import type { Operation } from './context.js';
import { checkUniqueNames, newObject, setAttr } from './new-object.js';
import { produced, uidItem } from './payload.js';

/**
 * Register: symmetric keys and Secret Data in plain Raw, Opaque or Transparent Symmetric Key
 * format are kept as key bytes (so Get can convert and wrap them); opaque objects as their value;
 * wrapped keys, public and private keys, certificates and anything else as the registered
 * structure, returned as-is.
 */
export const register: Operation = {
  name: 'Register',
  durableAudit: true,
  async run(payload, ctx) {
    const typeItem = child(payload, Tag.ObjectType);
    if (!typeItem) throw new KmipError('invalid_field', 'Register: missing ObjectType');
    const objectType = enumName(Tag.ObjectType, asEnum(typeItem));
    const objTag = objectType ? tagByName(objectType) : undefined;
    const body = objTag === undefined ? undefined : child(payload, objTag);
    if (!objectType || !body || body.type !== 'Structure') {
      throw new KmipError('invalid_field', `Register: the ${objectType ?? 'object'} structure is missing`);
    }
    let attrs: Attr[] = attrsOfPayload(payload);
    const keyBlock = child(body, Tag.KeyBlock);
    if (keyBlock) attrs = withKeyBlockAttrs(attrs, keyBlock);
    const init = readMaterial(objectType, body, keyBlock);
    const obj = newObject(ctx, { objectType, attrs, ...init });
    await checkUniqueNames(ctx, obj.attrs);
    await ctx.repo.insert(obj);
    produced(ctx, obj.id);
    return [uidItem(obj.id)];
  },
};

/** Cryptographic Algorithm and Length of a Key Block become attributes unless given. */
function withKeyBlockAttrs(attrs: Attr[], keyBlock: TtlvItem): Attr[] {
  let out = attrs;
  for (const name of ['CryptographicAlgorithm', 'CryptographicLength'] as const) {
    const v = child(keyBlock, Tag[name]);
    if (v && !findAttr(out, name)) out = setAttr(out, { name, value: v });
  }
  return out;
}

function readMaterial(
  objectType: string,
  body: TtlvItem,
  keyBlock: TtlvItem | undefined,
): { material: Uint8Array | null; form: 'key' | 'object'; keyFormatType?: string; subtype?: string } {
  if (objectType === 'OpaqueObject') {
    const t = child(body, Tag.OpaqueDataType);
    const v = child(body, Tag.OpaqueDataValue);
    if (!v) throw new KmipError('invalid_field', 'OpaqueObject: missing OpaqueDataValue');
    return { material: Buffer.from(asBytes(v)), form: 'key', ...(t ? { subtype: enumName(Tag.OpaqueDataType, asEnum(t)) ?? String(asEnum(t)) } : {}) };
  }
  const kftItem = keyBlock ? child(keyBlock, Tag.KeyFormatType) : undefined;
  const kft = kftItem ? enumName(Tag.KeyFormatType, asEnum(kftItem)) : undefined;
  if ((objectType === 'SymmetricKey' || objectType === 'SecretData') && keyBlock) {
    if (!kft) throw new KmipError('invalid_field', 'KeyBlock: missing KeyFormatType');
    const sdt = objectType === 'SecretData' ? child(body, Tag.SecretDataType) : undefined;
    const subtype = sdt ? (enumName(Tag.SecretDataType, asEnum(sdt)) ?? String(asEnum(sdt))) : undefined;
    // Registered without a Key Value (its material kept elsewhere, Key Value Location): no material.
    if (!child(keyBlock, Tag.KeyValue)) return { material: null, form: 'key', keyFormatType: kft, ...(subtype ? { subtype } : {}) };
    const plain = plainKeyBytes(keyBlock, kft);
    if (plain) return { material: plain, form: 'key', keyFormatType: kft, ...(subtype ? { subtype } : {}) };
  }
  return { material: encodeTtlv(body), form: 'object', ...(kft ? { keyFormatType: kft } : {}) };
}

/** The key bytes of an unwrapped Raw/Opaque/Transparent Symmetric Key block, else undefined. */
function plainKeyBytes(keyBlock: TtlvItem, kft: string): Buffer | undefined {
  if (child(keyBlock, Tag.KeyWrappingData)) return undefined;
  const value = child(keyBlock, Tag.KeyValue);
  if (!value || value.type !== 'Structure') return undefined;
  const km = child(value, Tag.KeyMaterial);
  if (!km) throw new KmipError('invalid_field', 'KeyValue: missing KeyMaterial');
  if ((kft === 'Raw' || kft === 'Opaque') && km.type === 'ByteString') return Buffer.from(km.value);
  if (kft === 'TransparentSymmetricKey' && km.type === 'Structure') {
    const key = child(km, Tag.Key);
    if (key) return Buffer.from(asBytes(key));
  }
  return undefined;
}
