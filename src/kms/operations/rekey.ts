import { KmipError, LinkType, Tag, asInterval, child, enumItem, struct, text, type TtlvItem } from '../../kmip/index.js';
import { generateSymmetricKey } from '../algorithms.js';
import { attrsOfPayload } from '../attribute-io.js';
import { SERVER_MANAGED, isMultiValued } from '../attribute-rules.js';
import { enumName } from '../kmip-values.js';
import { firstAttr, type Attr } from '../objects.js';
import type { Operation } from './context.js';
import { newObject } from './new-object.js';
import { produced, targetId, uidItem } from './payload.js';

/** Server-set attributes the new key inherits from the old. */
const KEPT_ON_REKEY: ReadonlySet<string> = new Set(['CryptographicAlgorithm', 'CryptographicLength', 'RandomNumberGenerator']);
// Sensitive and Extractable are client attributes and carry over; their history starts anew.

function link(type: number, id: string): Attr {
  return { name: 'Link', value: struct(Tag.Link, [enumItem(Tag.LinkType, type), text(Tag.LinkedObjectIdentifier, id)]) };
}

/**
 * ReKey: a new symmetric key with the old one's algorithm, length, usage and names, fresh
 * material, Replaced/Replacement... modelled as the KMIP Link attributes: the new key links to
 * the old with Replaced Object Link, the old to the new with Replacement Object Link. An Offset
 * moves the new key's Activation Date to now + offset.
 */
export const rekey: Operation = {
  name: 'ReKey',
  durableAudit: true,
  async run(payload, ctx) {
    const oldId = targetId(payload, ctx);
    const old = await ctx.repo.load(oldId);
    if (old.objectType !== 'SymmetricKey' || old.form !== 'key') throw new KmipError('illegal_operation', 'only symmetric keys are re-keyed');
    if (old.state !== 'Active' && old.state !== 'PreActive' && old.state !== 'Deactivated') {
      throw new KmipError('permission_denied', `a ${old.state} key cannot be re-keyed`);
    }
    const alg = firstAttr(old, 'CryptographicAlgorithm');
    const len = firstAttr(old, 'CryptographicLength');
    const algName = alg && alg.type === 'Enumeration' ? enumName(Tag.CryptographicAlgorithm, alg.value) : undefined;
    const bits = len && len.type === 'Integer' ? len.value : (old.material?.length ?? 0) * 8;
    const g = generateSymmetricKey(algName ?? '?', bits, 0);
    if (!g.ok) throw new KmipError('illegal_operation', `the key cannot be re-keyed: ${g.message}`);
    const carried = old.attrs.filter((a) => a.name !== 'Link' && (!SERVER_MANAGED.has(a.name) || KEPT_ON_REKEY.has(a.name)));
    const given = attrsOfPayload(payload);
    const replaced = (a: Attr): boolean => !isMultiValued(a.name) && given.some((gv) => gv.name === a.name);
    const attrs = [...carried.filter((a) => !replaced(a)), ...given, link(LinkType.ReplacedObjectLink, oldId)];
    const offset = child(payload, Tag.Offset);
    const withDates = [...attrs];
    if (offset) {
      const act = old.dates.activationDate;
      const base = act ?? ctx.now;
      withDates.push({ name: 'ActivationDate', value: { tag: Tag.ActivationDate, type: 'DateTime', value: base + BigInt(asInterval(offset)) } });
    } else if (old.dates.activationDate !== undefined && !given.some((a) => a.name === 'ActivationDate')) {
      withDates.push({ name: 'ActivationDate', value: { tag: Tag.ActivationDate, type: 'DateTime', value: ctx.now } });
    }
    const fresh = newObject(ctx, { objectType: 'SymmetricKey', attrs: withDates, material: g.material, form: 'key', generated: true, keyFormatType: old.keyFormatType ?? 'Raw' });
    old.attrs = [...old.attrs.filter((a) => !(a.name === 'Link' && isLinkOfType(a.value, LinkType.ReplacementObjectLink))), link(LinkType.ReplacementObjectLink, fresh.id)];
    old.dates = { ...old.dates, lastChangeDate: ctx.now };
    await ctx.repo.insert(fresh);
    await ctx.repo.save(old);
    produced(ctx, fresh.id);
    return [uidItem(fresh.id)];
  },
};

function isLinkOfType(v: TtlvItem, type: number): boolean {
  const t = child(v, Tag.LinkType);
  return t !== undefined && t.type === 'Enumeration' && t.value === type;
}

