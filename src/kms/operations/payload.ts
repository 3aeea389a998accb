import { KmipError, Tag, asText, child, text, type TtlvItem } from '../../kmip/index.js';
import type { OpContext } from './context.js';

/**
 * Reading the fields every operation shares: the target object's identifier (or the batch's
 * ID Placeholder when the request leaves it out) and the identifier in the response.
 */
export function targetId(payload: TtlvItem, ctx: OpContext): string {
  const uid = child(payload, Tag.UniqueIdentifier);
  if (uid) {
    const id = asText(uid);
    ctx.objectId = id;
    return id;
  }
  if (ctx.idPlaceholder === undefined) throw new KmipError('invalid_field', 'missing UniqueIdentifier and no ID Placeholder is set');
  ctx.objectId = ctx.idPlaceholder;
  return ctx.idPlaceholder;
}

export function uidItem(id: string): TtlvItem {
  return text(Tag.UniqueIdentifier, id);
}

/** Sets the ID Placeholder (and the audit object) to an id this item produced. */
export function produced(ctx: OpContext, id: string): void {
  ctx.idPlaceholder = id;
  ctx.objectId = id;
}
