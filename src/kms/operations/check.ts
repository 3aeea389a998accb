import { KmipError, Tag, asInt, child } from '../../kmip/index.js';
import { firstAttr } from '../objects.js';
import type { Operation } from './context.js';
import { targetId, uidItem } from './payload.js';

/**
 * Check: the object exists for the caller and allows the usage asked for (Cryptographic Usage
 * Mask: every asked bit must be in the object's mask). Usage limits and lease times are not kept,
 * so those fields are accepted; a successful Check answers with the identifier only.
 */
export const check: Operation = {
  name: 'Check',
  durableAudit: false,
  async run(payload, ctx) {
    const id = targetId(payload, ctx);
    const obj = await ctx.repo.load(id);
    const out = [uidItem(id)];
    const asked = child(payload, Tag.CryptographicUsageMask);
    if (asked) {
      const mask = firstAttr(obj, 'CryptographicUsageMask');
      const have = mask && mask.type === 'Integer' ? mask.value : 0;
      const want = asInt(asked);
      if ((want & ~have) !== 0) throw new KmipError('incompatible_cryptographic_usage_mask', 'the object does not allow this usage');
    }
    return out;
  },
};
