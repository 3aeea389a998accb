import { KmipError, Tag, asDateTime, asEnum, asStruct, asText, child, tagName, type TtlvItem } from '../../kmip/index.js';
import { attrFrom1x, attrFrom2x, attrTo1x, isV2, nameFrom1x } from '../attribute-io.js';
import { CLIENT_DATES, SERVER_MANAGED, isMultiValued } from '../attribute-rules.js';
import { advanceByDates, denialReason, maySetDate } from '../lifecycle.js';
import type { Attr, ManagedObject } from '../objects.js';
import type { OpContext } from './context.js';
import { trackHistory } from './new-object.js';

/**
 * What the attribute operations share: reading the attribute a request names in either
 * version's encoding, the may-a-client-change-this rules, and applying a date attribute to the
 * lifecycle.
 */

/** The attribute of an AddAttribute/ModifyAttribute/SetAttribute request (1.x Attribute or 2.x NewAttribute). */
export function requestedAttr(payload: TtlvItem, ctx: OpContext): { attr: Attr; index: number | undefined } {
  const newAttr = child(payload, Tag.NewAttribute);
  if (newAttr) {
    const inner = asStruct(newAttr).value[0];
    if (!inner) throw new KmipError('invalid_field', 'NewAttribute is empty');
    return { attr: attrFrom2x(inner), index: undefined };
  }
  const a = child(payload, Tag.Attribute);
  if (!a) throw new KmipError('invalid_field', isV2(ctx.version) ? 'missing NewAttribute' : 'missing Attribute');
  return attrFrom1x(a);
}

/** The 2.x CurrentAttribute of a request, if any. */
export function currentAttr(payload: TtlvItem): Attr | undefined {
  const cur = child(payload, Tag.CurrentAttribute);
  if (!cur) return undefined;
  const inner = asStruct(cur).value[0];
  if (!inner) throw new KmipError('invalid_field', 'CurrentAttribute is empty');
  return attrFrom2x(inner);
}

/** An attribute name from a 2.x AttributeReference (the attribute's tag, or a vendor structure). */
export function referencedName(ref: TtlvItem): string {
  if (ref.type === 'Structure') {
    const vendor = child(ref, Tag.VendorIdentification);
    const n = child(ref, Tag.AttributeName);
    if (!vendor || !n) throw new KmipError('invalid_field', 'AttributeReference: missing VendorIdentification or AttributeName');
    return `${asText(vendor)}-${asText(n)}`;
  }
  return tagName(asEnum(ref));
}

/** An attribute name from a 1.x AttributeName. */
export function namedAttr(item: TtlvItem): string {
  return nameFrom1x(asText(item));
}

function readOnly(ctx: OpContext, name: string): KmipError {
  return new KmipError(isV2(ctx.version) ? 'attribute_read_only' : 'permission_denied', `${name} cannot be changed by a client`);
}

export function notFound(ctx: OpContext, name: string): KmipError {
  return new KmipError(isV2(ctx.version) ? 'attribute_not_found' : 'item_not_found', `the object has no ${name} attribute`);
}

/**
 * Applies a client change of `name` to `obj`: dates go to the lifecycle (within its rules);
 * read-only attributes are refused. Returns true when the change was a date (already applied).
 */
export function applyDate(obj: ManagedObject, a: Attr | undefined, name: string, ctx: OpContext): boolean {
  const key = CLIENT_DATES.get(name);
  if (!key) {
    if (SERVER_MANAGED.has(name)) throw readOnly(ctx, name);
    return false;
  }
  if (!maySetDate(key, obj.state)) {
    throw new KmipError(denialReason(ctx.version), `${name} cannot be changed while the object is ${obj.state}`);
  }
  if (a) obj.dates = { ...obj.dates, [key]: asDateTime(a.value), lastChangeDate: ctx.now };
  else {
    const { [key]: _gone, ...rest } = obj.dates;
    obj.dates = { ...rest, lastChangeDate: ctx.now };
  }
  obj.state = advanceByDates(obj.state, obj.dates, ctx.now);
  return true;
}

export function checkAdd(obj: ManagedObject, a: Attr, ctx: OpContext): void {
  if (!isMultiValued(a.name) && obj.attrs.some((x) => x.name === a.name)) {
    throw new KmipError(isV2(ctx.version) ? 'attribute_single_valued' : 'illegal_operation', `${a.name} has a value already`);
  }
}

/** After a client change: Last Change Date, and the Sensitive/Extractable history. */
export function touch(obj: ManagedObject, ctx: OpContext): void {
  obj.dates = { ...obj.dates, lastChangeDate: ctx.now };
  obj.attrs = trackHistory(obj.attrs);
}

/** The 1.x echo of an attribute in responses. */
export function echo1x(a: Attr): TtlvItem {
  return attrTo1x(a);
}
