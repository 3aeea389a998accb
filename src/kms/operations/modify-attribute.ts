import { encodeTtlv } from '../../kmip/index.js';
import { isV2 } from '../attribute-io.js';
import type { Attr } from '../objects.js';
import type { Operation } from './context.js';
import { applyDate, currentAttr, echo1x, notFound, requestedAttr, touch } from './attribute-edit.js';
import { checkUniqueNames } from './new-object.js';
import { targetId, uidItem } from './payload.js';

/**
 * ModifyAttribute: replaces one existing instance: the 1.x Attribute Index's (default 0), or the
 * 2.x Current Attribute's value (default the first instance).
 */
export const modifyAttribute: Operation = {
  name: 'ModifyAttribute',
  durableAudit: false,
  async run(payload, ctx) {
    const id = targetId(payload, ctx);
    const obj = await ctx.repo.load(id);
    const { attr, index } = requestedAttr(payload, ctx);
    if (!applyDate(obj, attr, attr.name, ctx)) {
      const cur = currentAttr(payload);
      const at = findInstance(obj.attrs, attr.name, index ?? 0, cur);
      if (at < 0) throw notFound(ctx, attr.name);
      obj.attrs = obj.attrs.map((a, i) => (i === at ? attr : a));
      touch(obj, ctx);
    }
    await checkUniqueNames(ctx, [attr], id);
    await ctx.repo.save(obj);
    return isV2(ctx.version) ? [uidItem(id)] : [uidItem(id), echo1x(attr)];
  },
};

/** The position in `attrs` of the index-th instance of `name` (or of the instance equal to `cur`). */
export function findInstance(attrs: readonly Attr[], name: string, index: number, cur: Attr | undefined): number {
  const want = cur ? encodeTtlv({ ...cur.value, tag: 0x420000 } as never).toString('hex') : undefined;
  let seen = 0;
  for (let i = 0; i < attrs.length; i++) {
    const a = attrs[i] as Attr;
    if (a.name !== name) continue;
    if (want !== undefined) {
      if (encodeTtlv({ ...a.value, tag: 0x420000 } as never).toString('hex') === want) return i;
      continue;
    }
    if (seen === index) return i;
    seen++;
  }
  return -1;
}
