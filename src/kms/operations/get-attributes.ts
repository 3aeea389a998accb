import { Tag, children, struct, tagByName, enumItem, text, type TtlvItem } from '../../kmip/index.js';
import { attrsTo1x, attrTo2x, isCustomName, isV2, nameTo1x } from '../attribute-io.js';
import { attributeNames, objectAttributes } from '../attribute-view.js';
import type { Attr } from '../objects.js';
import type { Operation } from './context.js';
import { namedAttr, referencedName } from './attribute-edit.js';
import { targetId, uidItem } from './payload.js';

/** GetAttributes: the named attributes (all when none is named); names the object lacks are left out. */
export const getAttributes: Operation = {
  name: 'GetAttributes',
  durableAudit: false,
  async run(payload, ctx) {
    const id = targetId(payload, ctx);
    const obj = await ctx.repo.load(id);
    const wanted = [
      ...children(payload, Tag.AttributeName).map(namedAttr),
      ...children(payload, Tag.AttributeReference).map(referencedName),
    ];
    const all = objectAttributes(obj, ctx.version);
    const picked: Attr[] = wanted.length === 0 ? all : wanted.flatMap((n) => all.filter((a) => a.name === n));
    if (isV2(ctx.version)) return [uidItem(id), struct(Tag.Attributes, picked.map(attrTo2x))];
    return [uidItem(id), ...attrsTo1x(picked)];
  },
};

/** GetAttributeList: the names of the attributes the object has. */
export const getAttributeList: Operation = {
  name: 'GetAttributeList',
  durableAudit: false,
  async run(payload, ctx) {
    const id = targetId(payload, ctx);
    const obj = await ctx.repo.load(id);
    const names = attributeNames(obj, ctx.version);
    if (!isV2(ctx.version)) return [uidItem(id), ...names.map((n) => text(Tag.AttributeName, nameTo1x(n)))];
    return [uidItem(id), ...names.map(reference)];
  },
};

function reference(name: string): TtlvItem {
  const tag = isCustomName(name) ? undefined : tagByName(name);
  if (tag !== undefined) return enumItem(Tag.AttributeReference, tag);
  const dash = name.indexOf('-');
  return struct(Tag.AttributeReference, [
    text(Tag.VendorIdentification, dash > 0 ? name.slice(0, dash) : ''),
    text(Tag.AttributeName, dash > 0 ? name.slice(dash + 1) : name),
  ]);
}
