import { randomUUID } from 'node:crypto';
import { KmipError, asDateTime } from '../../kmip/index.js';
import { CLIENT_DATES, SERVER_MANAGED, SETTABLE_AT_CREATION, isMultiValued } from '../attribute-rules.js';
import { initialState } from '../lifecycle.js';
import type { Attr, ManagedObject, MaterialForm } from '../objects.js';
import type { OpContext } from './context.js';

/**
 * A new managed object from the attributes of a Create/Register/ReKey request: client dates
 * (Activation Date, ...) go to the lifecycle, server-managed attributes are refused, a
 * single-valued attribute given twice is refused; Initial Date is now.
 */
export function newObject(
  ctx: OpContext,
  init: {
    objectType: string;
    attrs: readonly Attr[];
    material: Uint8Array | null;
    form: MaterialForm;
    keyFormatType?: string;
    subtype?: string;
  },
): ManagedObject {
  const kept: Attr[] = [];
  const requested: { activationDate?: bigint; deactivationDate?: bigint } = {};
  const extraDates: Record<string, bigint> = {};
  for (const a of init.attrs) {
    const dateKey = CLIENT_DATES.get(a.name);
    if (dateKey) {
      const v = asDateTime(a.value);
      if (dateKey === 'activationDate' || dateKey === 'deactivationDate') requested[dateKey] = v;
      else extraDates[dateKey] = v;
      continue;
    }
    if (SERVER_MANAGED.has(a.name) && !SETTABLE_AT_CREATION.has(a.name)) {
      if (a.name === 'ObjectType' || a.name === 'UniqueIdentifier') continue;
      throw new KmipError(ctx.version.major >= 2 ? 'attribute_read_only' : 'invalid_field', `${a.name} is set by the server`);
    }
    if (!isMultiValued(a.name) && kept.some((k) => k.name === a.name)) {
      throw new KmipError(ctx.version.major >= 2 ? 'attribute_single_valued' : 'invalid_field', `${a.name} may be given once`);
    }
    kept.push(a);
  }
  const { state, dates } = initialState(ctx.now, requested);
  return {
    id: randomUUID(),
    objectType: init.objectType,
    state,
    owner: ctx.identity.subject,
    revision: 1,
    attrs: kept,
    dates: { ...dates, ...extraDates },
    material: init.material,
    form: init.form,
    ...(init.keyFormatType ? { keyFormatType: init.keyFormatType } : {}),
    ...(init.subtype ? { subtype: init.subtype } : {}),
  };
}

/** Sets a single-valued attribute (replacing any instance). */
export function setAttr(attrs: Attr[], a: Attr): Attr[] {
  return [...attrs.filter((x) => x.name !== a.name), a];
}
