import { KmipError } from '../../kmip/index.js';
import { activate as activateState } from '../lifecycle.js';
import type { Operation } from './context.js';
import { targetId, uidItem } from './payload.js';

/** Activate: PreActive → Active, Activation Date = now. */
export const activate: Operation = {
  name: 'Activate',
  durableAudit: false,
  async run(payload, ctx) {
    const id = targetId(payload, ctx);
    const obj = await ctx.repo.load(id);
    const t = activateState(obj.state, obj.dates, ctx.now, ctx.version);
    if (!t.ok) throw new KmipError(t.reason, t.message);
    obj.state = t.state;
    obj.dates = t.dates;
    await ctx.repo.save(obj);
    return [uidItem(id)];
  },
};
