import { isV2 } from '../attribute-io.js';
import type { Operation } from './context.js';
import { applyDate, checkAdd, echo1x, requestedAttr, touch } from './attribute-edit.js';
import { checkUniqueNames } from './new-object.js';
import { targetId, uidItem } from './payload.js';

/** AddAttribute: a new instance of a multi-valued attribute, or the first of a single-valued one. */
export const addAttribute: Operation = {
  name: 'AddAttribute',
  durableAudit: false,
  async run(payload, ctx) {
    const id = targetId(payload, ctx);
    const obj = await ctx.repo.load(id);
    const { attr } = requestedAttr(payload, ctx);
    if (!applyDate(obj, attr, attr.name, ctx)) {
      checkAdd(obj, attr, ctx);
      obj.attrs = [...obj.attrs, attr];
      touch(obj, ctx);
    }
    await checkUniqueNames(ctx, [attr]);
    await ctx.repo.save(obj);
    return isV2(ctx.version) ? [uidItem(id)] : [uidItem(id), echo1x(attr)];
  },
};
