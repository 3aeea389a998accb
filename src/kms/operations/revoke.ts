import { KmipError, Tag, asDateTime, asEnum, child, type TtlvItem } from '../../kmip/index.js';
import { revoke as revokeState } from '../lifecycle.js';
import { enumName } from '../kmip-values.js';
import type { Operation } from './context.js';
import { targetId, uidItem } from './payload.js';

/** Revoke with a reason: compromise → Compromised (Compromise Occurrence Date), else Active → Deactivated. */
export const revoke: Operation = {
  name: 'Revoke',
  durableAudit: true,
  auditWithWrite: true,
  async run(payload, ctx) {
    const id = targetId(payload, ctx);
    const reason = child(payload, Tag.RevocationReason);
    if (!reason || reason.type !== 'Structure') throw new KmipError('invalid_field', 'Revoke: missing RevocationReason');
    const codeItem = child(reason, Tag.RevocationReasonCode);
    if (!codeItem) throw new KmipError('invalid_field', 'RevocationReason: missing RevocationReasonCode');
    const code = enumName(Tag.RevocationReasonCode, asEnum(codeItem));
    if (!code) throw new KmipError('invalid_field', 'RevocationReason: unknown RevocationReasonCode');
    const occurred = child(payload, Tag.CompromiseOccurrenceDate);
    const obj = await ctx.repo.load(id);
    const t = revokeState(obj.state, obj.dates, code, occurred ? asDateTime(occurred) : undefined, ctx.now, ctx.version);
    if (!t.ok) throw new KmipError(t.reason, t.message);
    obj.state = t.state;
    obj.dates = t.dates;
    obj.attrs = [...obj.attrs.filter((a) => a.name !== 'RevocationReason'), { name: 'RevocationReason', value: reason as TtlvItem }];
    await ctx.repo.save(obj);
    return [uidItem(id)];
  },
};
