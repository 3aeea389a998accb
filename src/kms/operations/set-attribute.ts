import type { Operation } from './context.js';
import { applyDate, requestedAttr, touch } from './attribute-edit.js';
import { checkUniqueNames } from './new-object.js';
import { targetId, uidItem } from './payload.js';

/** SetAttribute (2.x): sets a single-valued attribute, replacing its value if it has one. */
export const setAttribute: Operation = {
  name: 'SetAttribute',
  durableAudit: false,
  async run(payload, ctx) {
    const id = targetId(payload, ctx);
    const obj = await ctx.repo.load(id);
    const { attr } = requestedAttr(payload, ctx);
    if (!applyDate(obj, attr, attr.name, ctx)) {
      obj.attrs = [...obj.attrs.filter((a) => a.name !== attr.name), attr];
      touch(obj, ctx);
    }
    await checkUniqueNames(ctx, [attr]);
    await ctx.repo.save(obj);
    return [uidItem(id)];
  },
};
