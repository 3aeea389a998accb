import { KmipError, Tag, asInt, child } from '../../kmip/index.js';
import { isV2 } from '../attribute-io.js';
import type { Operation } from './context.js';
import { applyDate, currentAttr, echo1x, namedAttr, notFound, referencedName, touch } from './attribute-edit.js';
import { findInstance } from './modify-attribute.js';
import { targetId, uidItem } from './payload.js';

/** DeleteAttribute: removes one instance (1.x name + index, 2.x Current Attribute or Attribute Reference). */
export const deleteAttribute: Operation = {
  name: 'DeleteAttribute',
  durableAudit: false,
  async run(payload, ctx) {
    const id = targetId(payload, ctx);
    const obj = await ctx.repo.load(id);
    const cur = currentAttr(payload);
    const ref = child(payload, Tag.AttributeReference);
    const nameItem = child(payload, Tag.AttributeName);
    const name = cur ? cur.name : ref ? referencedName(ref) : nameItem ? namedAttr(nameItem) : undefined;
    if (name === undefined) throw new KmipError('invalid_field', 'DeleteAttribute: which attribute?');
    const idxItem = child(payload, Tag.AttributeIndex);
    const index = idxItem ? asInt(idxItem) : 0;
    if (applyDate(obj, undefined, name, ctx)) {
      await ctx.repo.save(obj);
      return [uidItem(id)];
    }
    const at = findInstance(obj.attrs, name, index, cur);
    if (at < 0) throw notFound(ctx, name);
    const removed = obj.attrs[at];
    obj.attrs = obj.attrs.filter((_, i) => i !== at);
    touch(obj, ctx);
    await ctx.repo.save(obj);
    return isV2(ctx.version) || !removed ? [uidItem(id)] : [uidItem(id), echo1x(removed)];
  },
};
