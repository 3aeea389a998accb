import { KmipError } from '../../kmip/index.js';
import { digestOf } from '../attribute-view.js';
import { destroy as destroyState } from '../lifecycle.js';
import type { Operation } from './context.js';
import { targetId, uidItem } from './payload.js';

/** Destroy: the material is removed (and zeroed in memory); a Destroyed record with its attributes stays. */
export const destroy: Operation = {
  name: 'Destroy',
  durableAudit: true,
  auditWithWrite: true,
  async run(payload, ctx) {
    const id = targetId(payload, ctx);
    const obj = await ctx.repo.load(id);
    const t = destroyState(obj.state, obj.dates, ctx.now, ctx.version);
    if (!t.ok) throw new KmipError(t.reason, t.message);
    obj.state = t.state;
    obj.dates = t.dates;
    // The Digest outlives the material (it identifies what was destroyed).
    if (obj.form === 'key' && obj.material) obj.attrs = [...obj.attrs.filter((a) => a.name !== 'Digest'), { name: 'Digest', value: digestOf(obj.material) }];
    obj.material?.fill(0);
    obj.material = null;
    await ctx.repo.save(obj);
    return [uidItem(id)];
  },
};
