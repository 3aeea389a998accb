import {
  BlockCipherMode,
  EncodingOption,
  encodeTtlv,
  KmipError,
  Tag,
  WrappingMethod,
  asBool,
  bool,
  asBytes,
  asStruct,
  asEnum,
  asText,
  child,
  enumItem,
  struct,
  bytes,
  type TtlvItem,
} from '../../kmip/index.js';
import { enumName, enumValue } from '../kmip-values.js';
import { checkFormat, objectStructure, type WrappedMaterial } from '../key-material.js';
import { unwrapKey, wrapKey } from '../key-wrap.js';
import { isDestroyed } from '../lifecycle.js';
import { firstAttr, type ManagedObject } from '../objects.js';
import { StoreError } from '../store/index.js';
import type { OpContext, Operation } from './context.js';
import { targetId, uidItem } from './payload.js';

/**
 * Get: the object in its format or the requested one (Raw or Transparent Symmetric Key for
 * symmetric keys), plain or wrapped under another key of the caller (Key Wrapping Specification,
 * NIST key wrap). A Sensitive object leaves the KMS only wrapped; a non-Extractable one never.
 */
export const get: Operation = {
  name: 'Get',
  durableAudit: false,
  async run(payload, ctx) {
    const id = targetId(payload, ctx);
    const obj = await ctx.repo.load(id);
    if (isDestroyed(obj.state)) {
      throw new KmipError(ctx.version.major >= 2 ? 'object_destroyed' : 'permission_denied', 'the object has been destroyed');
    }
    const kftItem = child(payload, Tag.KeyFormatType);
    const requested = kftItem ? enumName(Tag.KeyFormatType, asEnum(kftItem)) : undefined;
    if (kftItem && !requested) throw new KmipError('key_format_type_not_supported', 'unknown Key Format Type');
    if (child(payload, Tag.KeyCompressionType)) throw new KmipError('key_compression_type_not_supported', 'keys are not compressed');
    const spec = child(payload, Tag.KeyWrappingSpecification);
    const wrapTypeItem = child(payload, Tag.KeyWrapType);
    const wrapType = wrapTypeItem ? enumName(Tag.KeyWrapType, asEnum(wrapTypeItem)) : undefined;
    const extractable = firstAttr(obj, 'Extractable');
    if (extractable && !asBool(extractable)) throw new KmipError('not_extractable', 'the object is not extractable');
    const sensitive = firstAttr(obj, 'Sensitive');
    if (sensitive && asBool(sensitive) && !spec && !(wrapType === 'AsRegistered' && obj.form === 'object')) {
      throw new KmipError('sensitive', 'a sensitive object is only given out wrapped');
    }
    const type = enumItem(Tag.ObjectType, enumValue(Tag.ObjectType, obj.objectType) ?? 0);
    if (obj.form === 'object' && obj.material && wrapType === 'NotWrapped' && isWrappedStructure(obj)) {
      return [type, uidItem(id), await unwrapRegistered(obj, ctx)];
    }
    // A key registered wrapped is unwrapped first when the caller asks for another wrapping.
    const source = spec && obj.form === 'object' && obj.material && isWrappedStructure(obj) ? await asPlainKey(obj, ctx) : obj;
    const format = checkFormat(source, requested);
    let wrapped: WrappedMaterial | undefined;
    if (spec) {
      if (source.form !== 'key' || source.objectType === 'OpaqueObject' || !source.material) {
        throw new KmipError('feature_not_supported', 'only symmetric keys and secret data are wrapped by the KMS');
      }
      wrapped = await wrapFor(spec, source.material, ctx);
    }
    const answer = objectStructure(source, format, wrapped);
    await markNotFresh(obj, ctx);
    return [type, uidItem(id), answer];
  },
};

/** Fresh (KMIP 1.1): true until the key material has left the server once. */
async function markNotFresh(obj: ManagedObject, ctx: OpContext): Promise<void> {
  const fresh = firstAttr(obj, 'Fresh');
  if (fresh && fresh.type === 'Boolean' && !fresh.value) return;
  obj.attrs = [...obj.attrs.filter((a) => a.name !== 'Fresh'), { name: 'Fresh', value: bool(Tag.Fresh, false) }];
  try {
    await ctx.repo.save(obj);
  } catch (err) {
    // Another request changed the object meanwhile (e.g. a concurrent first Get): it is not
    // fresh either way, and this Get must not fail for it.
    if (!(err instanceof StoreError && err.code === 'conflict')) throw err;
  }
}

/** Loads the wrapping key named by an EncryptionKeyInformation and checks it may wrap. */
async function wrappingKey(info: TtlvItem, ctx: OpContext): Promise<{ key: Uint8Array; pad: boolean }> {
  const uid = child(info, Tag.UniqueIdentifier);
  if (!uid) throw new KmipError('invalid_field', 'EncryptionKeyInformation: missing UniqueIdentifier');
  let kek: ManagedObject;
  try {
    kek = await ctx.repo.load(asText(uid));
  } catch (err) {
    if (err instanceof KmipError && (err.code === 'item_not_found' || err.code === 'object_not_found') && ctx.version.major >= 2) {
      throw new KmipError('wrapping_object_not_found', 'the wrapping key does not exist');
    }
    throw err;
  }
  if (isDestroyed(kek.state) || !kek.material) {
    throw new KmipError(ctx.version.major >= 2 ? 'wrapping_object_destroyed' : 'permission_denied', 'the wrapping key is destroyed');
  }
  const alg = firstAttr(kek, 'CryptographicAlgorithm');
  if (kek.objectType !== 'SymmetricKey' || kek.form !== 'key' || !alg || enumName(Tag.CryptographicAlgorithm, asEnum(alg)) !== 'AES') {
    throw new KmipError('invalid_field', 'the wrapping key must be an AES symmetric key');
  }
  const params = child(info, Tag.CryptographicParameters);
  const modeItem = params ? child(params, Tag.BlockCipherMode) : undefined;
  const mode = modeItem ? asEnum(modeItem) : BlockCipherMode.NISTKeyWrap;
  if (mode !== BlockCipherMode.NISTKeyWrap && mode !== BlockCipherMode.AESKeyWrapPadding) {
    throw new KmipError(ctx.version.major >= 2 ? 'unsupported_cryptographic_parameters' : 'feature_not_supported', 'keys are wrapped with NIST key wrap only');
  }
  return { key: kek.material, pad: mode === BlockCipherMode.AESKeyWrapPadding };
}

async function wrapFor(spec: TtlvItem, material: Uint8Array, ctx: OpContext): Promise<WrappedMaterial> {
  const method = child(spec, Tag.WrappingMethod);
  if (!method || asEnum(method) !== WrappingMethod.Encrypt) throw new KmipError('feature_not_supported', 'only the Encrypt wrapping method is supported');
  if (child(spec, Tag.MACSignatureKeyInformation)) throw new KmipError('feature_not_supported', 'MAC/signature wrapping is not supported');
  const info = child(spec, Tag.EncryptionKeyInformation);
  if (!info) throw new KmipError('invalid_field', 'KeyWrappingSpecification: missing EncryptionKeyInformation');
  const { key, pad } = await wrappingKey(info, ctx);
  const encoding = child(spec, Tag.EncodingOption);
  const data: TtlvItem[] = [method, info];
  if (encoding) data.push(encoding);
  // Encoding Option: No Encoding wraps the key material alone; TTLV Encoding (the default) wraps
  // the TTLV encoding of the whole Key Value, which then travels as a Byte String.
  const noEncoding = encoding !== undefined && asEnum(encoding) === EncodingOption.NoEncoding;
  const plain = noEncoding ? material : encodeTtlv(struct(Tag.KeyValue, [bytes(Tag.KeyMaterial, material)]));
  return { bytes: wrapKey(key, plain, pad), wrappingData: struct(Tag.KeyWrappingData, data), ttlvEncoded: !noEncoding };
}

function isWrappedStructure(obj: ManagedObject): boolean {
  return wrappedParts(obj) !== undefined;
}

function wrappedParts(obj: ManagedObject): { body: TtlvItem; block: TtlvItem; data: TtlvItem; km: TtlvItem } | undefined {
  const body = objectStructure(obj, obj.keyFormatType ?? 'Raw');
  const block = child(body, Tag.KeyBlock);
  const data = block ? child(block, Tag.KeyWrappingData) : undefined;
  const value = block ? child(block, Tag.KeyValue) : undefined;
  const km = value && value.type === 'Structure' ? child(value, Tag.KeyMaterial) : undefined;
  return block && data && km ? { body, block, data, km } : undefined;
}

/** A registered-wrapped key as a plain key object (in memory only). */
async function asPlainKey(obj: ManagedObject, ctx: OpContext): Promise<ManagedObject> {
  const plain = await unwrapRegistered(obj, ctx);
  const block = child(plain, Tag.KeyBlock);
  const value = block ? child(block, Tag.KeyValue) : undefined;
  const km = value ? child(value, Tag.KeyMaterial) : undefined;
  if (!km) throw new KmipError('key_value_not_present', 'the key has no key material');
  return { ...obj, form: 'key', material: Buffer.from(asBytes(km)), keyFormatType: obj.keyFormatType ?? 'Raw' };
}

/** A key registered wrapped, unwrapped with the key its wrapping data names (Key Wrap Type Not Wrapped). */
async function unwrapRegistered(obj: ManagedObject, ctx: OpContext): Promise<TtlvItem> {
  const parts = wrappedParts(obj) as NonNullable<ReturnType<typeof wrappedParts>>;
  const info = child(parts.data, Tag.EncryptionKeyInformation);
  if (!info) throw new KmipError('feature_not_supported', 'the key was not wrapped by encryption');
  const { key, pad } = await wrappingKey(info, ctx);
  const plain = unwrapKey(key, asBytes(parts.km), pad);
  const block = struct(
    Tag.KeyBlock,
    asStruct(parts.block).value
      .filter((c) => c.tag !== Tag.KeyWrappingData)
      .map((c) => (c.tag === Tag.KeyValue ? struct(Tag.KeyValue, [bytes(Tag.KeyMaterial, plain)]) : c)),
  );
  return struct(parts.body.tag, asStruct(parts.body).value.map((c) => (c.tag === Tag.KeyBlock ? block : c)));
}
