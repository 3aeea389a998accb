import { randomUUID } from 'node:crypto';
import { KmipError, Tag, asDateTime, bool } from '../../kmip/index.js';
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
    /** Made by the server (Create, ReKey) rather than registered. */
    generated?: boolean;
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
  const flag = (n: string): boolean | undefined => {
    const a = kept.find((k) => k.name === n);
    return a && a.value.type === 'Boolean' ? a.value.value : undefined;
  };
  if (init.generated) {
    // Objects the server generates carry Sensitive/Extractable and their history from birth.
    if (flag('Sensitive') === undefined) kept.push({ name: 'Sensitive', value: bool(Tag.Sensitive, false) });
    if (flag('Extractable') === undefined) kept.push({ name: 'Extractable', value: bool(Tag.Extractable, true) });
    kept.push({ name: 'AlwaysSensitive', value: bool(Tag.AlwaysSensitive, flag('Sensitive') === true) });
    kept.push({ name: 'NeverExtractable', value: bool(Tag.NeverExtractable, flag('Extractable') === false) });
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

/**
 * Keeps Always Sensitive and Never Extractable true to their names after a client changes
 * Sensitive or Extractable.
 */
export function trackHistory(attrs: Attr[]): Attr[] {
  const flag = (n: string): boolean | undefined => {
    const a = attrs.find((k) => k.name === n);
    return a && a.value.type === 'Boolean' ? a.value.value : undefined;
  };
  let out = attrs;
  const has = (n: string): boolean => attrs.some((a) => a.name === n);
  if (has('AlwaysSensitive') && flag('Sensitive') !== true) out = setAttr(out, { name: 'AlwaysSensitive', value: bool(Tag.AlwaysSensitive, false) });
  if (has('NeverExtractable') && flag('Extractable') !== false) out = setAttr(out, { name: 'NeverExtractable', value: bool(Tag.NeverExtractable, false) });
  return out;
}

/** Sets a single-valued attribute (replacing any instance). */
export function setAttr(attrs: Attr[], a: Attr): Attr[] {
  return [...attrs.filter((x) => x.name !== a.name), a];
}

/**
 * KMIP 2.x: a Name is unique among the caller's objects (Non Unique Name Attribute). KMIP 1.x
 * servers let names repeat (ReKey even carries them over), so 1.x requests are not checked.
 */
export async function checkUniqueNames(ctx: OpContext, attrs: readonly Attr[], self?: string): Promise<void> {
  if (ctx.version.major < 2) return;
  for (const a of attrs) {
    if (a.name !== 'Name' || a.value.type !== 'Structure') continue;
    const nv = a.value.value.find((c) => c.tag === Tag.NameValue);
    if (!nv || nv.type !== 'TextString') continue;
    const holders = (await ctx.repo.locate({ name: nv.value })).filter((id) => id !== self);
    if (holders.length > 0) throw new KmipError('non_unique_name_attribute', 'another object has this name');
  }
}

/**
 * KMIP 2.1 Quantum Safe: a key asked to be quantum safe must be one (here: AES-256; Grover
 * halves a symmetric key's strength).
 */
export function checkQuantumSafe(attrs: readonly Attr[], algorithm: string, bits: number): void {
  const q = attrs.find((a) => a.name === 'QuantumSafe');
  if (!q || q.value.type !== 'Boolean' || !q.value.value) return;
  if (algorithm !== 'AES' || bits < 256) throw new KmipError('general_failure', 'the key asked for would not be quantum safe');
}
