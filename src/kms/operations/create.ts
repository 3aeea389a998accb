import { randomBytes } from 'node:crypto';
import { KmipError, Tag, asEnum, asInt, child, dateTime, int, type TtlvItem } from '../../kmip/index.js';
import { RNG_PARAMETERS, generateSymmetricKey } from '../algorithms.js';
import { attrsOfPayload } from '../attribute-io.js';
import { enumName } from '../kmip-values.js';
import { findAttr, type Attr } from '../objects.js';
import type { Operation } from './context.js';
import { checkQuantumSafe, checkUniqueNames, newObject, setAttr } from './new-object.js';
import { produced, uidItem } from './payload.js';

/**
 * Create: a symmetric key (algorithm + length from the attributes, generated per the algorithm
 * table) or Secret Data (random bytes of Cryptographic Length bits, 256 by default, type Password).
 */
export const create: Operation = {
  name: 'Create',
  durableAudit: true,
  auditWithWrite: true,
  async run(payload, ctx) {
    const typeItem = child(payload, Tag.ObjectType);
    if (!typeItem) throw new KmipError('invalid_field', 'Create: missing ObjectType');
    const objectType = enumName(Tag.ObjectType, asEnum(typeItem));
    let attrs: Attr[] = attrsOfPayload(payload);
    let material: Buffer;
    if (objectType === 'SymmetricKey') {
      const alg = findAttr(attrs, 'CryptographicAlgorithm');
      const len = findAttr(attrs, 'CryptographicLength');
      if (!alg || !len) throw new KmipError('invalid_field', 'Create: a symmetric key needs Cryptographic Algorithm and Length');
      const algName = enumName(Tag.CryptographicAlgorithm, asEnum(alg)) ?? `0x${asEnum(alg).toString(16)}`;
      const mask = findAttr(attrs, 'CryptographicUsageMask');
      checkQuantumSafe(attrs, algName, asInt(len));
      const g = generateSymmetricKey(algName, asInt(len), mask ? asInt(mask) : 0);
      if (!g.ok) {
        throw new KmipError(g.problem === 'usage' ? 'incompatible_cryptographic_usage_mask' : 'invalid_field', g.message);
      }
      material = g.material;
    } else if (objectType === 'SecretData') {
      const len = findAttr(attrs, 'CryptographicLength');
      const bits = len ? asInt(len) : 256;
      if (bits <= 0 || bits % 8 !== 0 || bits > 8192) throw new KmipError('invalid_field', 'Create: Secret Data length must be whole bytes, up to 8192 bits');
      material = randomBytes(bits / 8);
      if (!len) attrs = setAttr(attrs, { name: 'CryptographicLength', value: int(Tag.CryptographicLength, bits) });
    } else {
      throw new KmipError(ctx.version.major >= 2 ? 'invalid_object_type' : 'invalid_field', `Create does not make ${objectType ?? 'this object type'}`);
    }
    const obj = newObject(ctx, {
      objectType,
      attrs: [
        ...attrs,
        { name: 'RandomNumberGenerator', value: RNG_PARAMETERS },
        // The server made the object: its Original Creation Date is now (Register leaves it to the client).
        { name: 'OriginalCreationDate', value: dateTime(Tag.OriginalCreationDate, ctx.now) },
      ],
      material,
      form: 'key',
      generated: true,
      keyFormatType: objectType === 'SecretData' ? 'Opaque' : 'Raw',
      ...(objectType === 'SecretData' ? { subtype: 'Password' } : {}),
    });
    await checkUniqueNames(ctx, obj.attrs);
    await ctx.repo.insert(obj);
    produced(ctx, obj.id);
    return [typeItem, uidItem(obj.id)] as TtlvItem[];
  },
};

