import { Tag, asInt, asStruct, child, int, type TtlvItem } from '../../kmip/index.js';
import { attrsOfPayload } from '../attribute-io.js';
import { objectAttributes } from '../attribute-view.js';
import { enumName } from '../kmip-values.js';
import { isDestroyed } from '../lifecycle.js';
import type { Attr } from '../objects.js';
import type { Operation } from './context.js';
import { uidItem } from './payload.js';
import { encodeTtlv } from '../../kmip/index.js';

/**
 * Locate: the caller's objects matching every given attribute, newest first, after Offset
 * Items, at most Maximum Items. Object type, state, algorithm and one name go to the store's
 * index; every other attribute (custom ones included) is matched by value on the candidates.
 */
export const locate: Operation = {
  name: 'Locate',
  durableAudit: false,
  async run(payload, ctx) {
    const attrs = attrsOfPayload(payload);
    const maxItem = child(payload, Tag.MaximumItems);
    const offItem = child(payload, Tag.OffsetItems);
    const max = maxItem ? asInt(maxItem) : undefined;
    const offset = offItem ? asInt(offItem) : 0;
    const filter: { objectType?: string; state?: string; algorithm?: string; name?: string } = {};
    const rest: Attr[] = [];
    for (const a of attrs) {
      if (a.name === 'ObjectType' && a.value.type === 'Enumeration' && !filter.objectType) {
        filter.objectType = enumName(Tag.ObjectType, a.value.value) ?? '?';
      } else if (a.name === 'State' && a.value.type === 'Enumeration' && !filter.state) {
        filter.state = enumName(Tag.State, a.value.value) ?? '?';
      } else if (a.name === 'CryptographicAlgorithm' && a.value.type === 'Enumeration' && !filter.algorithm) {
        filter.algorithm = enumName(Tag.CryptographicAlgorithm, a.value.value) ?? '?';
      } else if (a.name === 'Name' && !filter.name) {
        const nv = a.value.type === 'Structure' ? child(a.value, Tag.NameValue) : undefined;
        if (nv && nv.type === 'TextString') filter.name = nv.value;
        else rest.push(a);
      } else rest.push(a);
    }
    // A date attribute given twice is a range (KMIP Locate): lower and upper bound, inclusive.
    const ranges = new Map<string, [bigint, bigint]>();
    for (const a of rest) {
      if (a.value.type !== 'DateTime') continue;
      const same = rest.filter((b) => b.name === a.name && b.value.type === 'DateTime').map((b) => b.value.value as bigint);
      const [x, y] = same;
      if (same.length === 2 && x !== undefined && y !== undefined) ranges.set(a.name, x < y ? [x, y] : [y, x]);
    }
    const exact = rest.filter((a) => !ranges.has(a.name));
    // Newest first, as the OASIS TC-OFFSET vectors expect of Offset Items and Maximum Items.
    const candidates = (await ctx.repo.locate(filter)).reverse();
    const found: string[] = [];
    let skipped = 0;
    let total = 0;
    // Destroyed objects are found only when asked for by State.
    const skipDestroyed = filter.state === undefined;
    for (const id of candidates) {
      if (rest.length > 0 || skipDestroyed) {
        const obj = await ctx.repo.load(id);
        if (skipDestroyed && isDestroyed(obj.state)) continue;
        const have = objectAttributes(obj, ctx.version);
        if (!exact.every((want) => have.some((h) => h.name === want.name && sameValue(h.value, want.value)))) continue;
        const inRange = [...ranges].every(([name, [lo, hi]]) =>
          have.some((h) => h.name === name && h.value.type === 'DateTime' && h.value.value >= lo && h.value.value <= hi),
        );
        if (!inRange) continue;
      }
      total++;
      if (skipped < offset) {
        skipped++;
        continue;
      }
      if (max === undefined || found.length < max) found.push(id);
    }
    const out: TtlvItem[] = [];
    if (ctx.version.major > 1 || ctx.version.minor >= 3) out.push(int(Tag.LocatedItems, total));
    out.push(...found.map(uidItem));
    if (found.length > 0) ctx.idPlaceholder = found[0];
    return out;
  },
};

function sameValue(a: TtlvItem, b: TtlvItem): boolean {
  if (a.type !== b.type) return false;
  if (a.type === 'Structure') {
    // A structure matches when every field the request gives is present and equal.
    return asStruct(b).value.every((bc) => a.value.some((ac) => ac.tag === bc.tag && sameValue(ac, bc)));
  }
  return encodeTtlv({ ...a, tag: 0x420000 } as TtlvItem).equals(encodeTtlv({ ...b, tag: 0x420000 } as TtlvItem));
}
