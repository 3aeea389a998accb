import { X509Certificate } from 'node:crypto';
import { KmipError, Tag, asBytes, asEnum, bool, child, encodeTtlv, int, tagByName, text, type TtlvItem } from '../../kmip/index.js';
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
  auditWithWrite: true,
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
    if (objectType === 'Certificate') attrs = withCertificateAttrs(attrs, body);
    const init = readMaterial(objectType, body, keyBlock);
    const made = newObject(ctx, { objectType, attrs, ...init });
    const obj = { ...made, attrs: withRegisteredHistory(made.attrs) };
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

/**
 * Attributes an X.509 certificate's value determines (KMIP 2.1 §4: Certificate Length, and
 * Certificate Subject CN, set by the server from the certificate), unless the client gave them.
 * A value that does not parse as X.509 DER is refused.
 */
function withCertificateAttrs(attrs: Attr[], body: TtlvItem): Attr[] {
  const type = child(body, Tag.CertificateType);
  const value = child(body, Tag.CertificateValue);
  if (!type || !value || enumName(Tag.CertificateType, asEnum(type)) !== 'X_509') return attrs;
  const der = asBytes(value);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch {
    throw new KmipError('invalid_field', 'Certificate: the value is not an X.509 certificate');
  }
  let out = attrs;
  if (!findAttr(out, 'CertificateLength')) out = setAttr(out, { name: 'CertificateLength', value: int(Tag.CertificateLength, der.length) });
  const cn = subjectCommonName(cert.subject);
  if (cn !== undefined && !findAttr(out, 'CertificateSubjectCN')) {
    out = setAttr(out, { name: 'CertificateSubjectCN', value: text(Tag.CertificateSubjectCN, cn) });
  }
  return out;
}

/** The first CN of a subject as Node prints it (one `KEY=value` per line). */
export function subjectCommonName(subject: string): string | undefined {
  const line = subject.split('\n').find((l) => l.startsWith('CN='));
  return line === undefined ? undefined : line.slice(3);
}

/**
 * A registered object whose client states Sensitive or Extractable starts the history of that flag
 * (KMIP 1.4 §3.49–3.50 / 2.1 §4: Always Sensitive is Sensitive since the object was made, Never
 * Extractable is not Extractable since then); trackHistory keeps them true to their names.
 */
function withRegisteredHistory(attrs: Attr[]): Attr[] {
  let out = attrs;
  const flag = (n: string): boolean | undefined => {
    const a = findAttr(attrs, n);
    return a && a.type === 'Boolean' ? a.value : undefined;
  };
  const sensitive = flag('Sensitive');
  if (sensitive !== undefined && !findAttr(out, 'AlwaysSensitive')) out = setAttr(out, { name: 'AlwaysSensitive', value: bool(Tag.AlwaysSensitive, sensitive) });
  const extractable = flag('Extractable');
  if (extractable !== undefined && !findAttr(out, 'NeverExtractable')) {
    out = setAttr(out, { name: 'NeverExtractable', value: bool(Tag.NeverExtractable, !extractable) });
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
