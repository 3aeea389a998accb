import { Tag, decodeTtlv, encodeTtlv, type TtlvItem } from '../kmip/index.js';
import type { StoredObject } from './store/types.js';
import { isLifecycleState, type LifecycleDates, type LifecycleState } from './lifecycle.js';

/**
 * A managed object as the service sees it, and its mapping to the store's StoredObject.
 *
 * Attributes are kept by their KMIP 2.x name (the tag name: 'CryptographicAlgorithm',
 * 'Name', ...; custom and vendor attributes by their 1.x text name, e.g. 'x-Product_Version'),
 * each instance a TTLV value. The lifecycle state and dates, the identifier and the object type
 * are server-managed and kept apart, and reported as attributes on demand.
 *
 * Material is one of two forms:
 * - 'key': plaintext key bytes (a Raw symmetric key, Secret Data or Opaque data), converted to
 *   the requested Key Format Type on Get and wrappable;
 * - 'object': the whole registered object structure as TTLV (public and private keys,
 *   certificates, keys registered already wrapped), returned as it was registered.
 */
export interface Attr {
  readonly name: string;
  readonly value: TtlvItem;
}

export type MaterialForm = 'key' | 'object';

export interface ManagedObject {
  readonly id: string;
  readonly objectType: string;
  state: LifecycleState;
  readonly owner: string;
  revision: number;
  attrs: Attr[];
  dates: LifecycleDates;
  material: Uint8Array | null;
  readonly form: MaterialForm;
  /** For 'key' material: the KMIP Key Format Type it was given in (Raw, Opaque, ...). */
  readonly keyFormatType?: string;
  /** Secret Data Type or Opaque Data Type name, for those objects. */
  readonly subtype?: string;
}

interface AttributesDoc {
  readonly v: 1;
  readonly form: MaterialForm;
  readonly kft?: string;
  readonly sub?: string;
  readonly dates: Record<string, string>;
  /** [name, base64 of the value's TTLV encoding] */
  readonly attrs: Array<[string, string]>;
}

export function attrValues(obj: ManagedObject, name: string): TtlvItem[] {
  return obj.attrs.filter((a) => a.name === name).map((a) => a.value);
}

export function firstAttr(obj: ManagedObject, name: string): TtlvItem | undefined {
  return findAttr(obj.attrs, name);
}

export function findAttr(attrs: readonly Attr[], name: string): TtlvItem | undefined {
  return attrs.find((a) => a.name === name)?.value;
}

/** The Name attribute values (text of each NameValue), for Locate. */
export function namesOf(obj: ManagedObject): string[] {
  const out: string[] = [];
  for (const v of attrValues(obj, 'Name')) {
    if (v.type !== 'Structure') continue;
    const nv = v.value.find((c) => c.tag === Tag.NameValue);
    if (nv && nv.type === 'TextString') out.push(nv.value);
  }
  return out;
}

export function toStored(obj: ManagedObject, algorithm: string | null): StoredObject {
  const dates: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj.dates)) if (v !== undefined) dates[k] = (v as bigint).toString();
  const doc: AttributesDoc = {
    v: 1,
    form: obj.form,
    ...(obj.keyFormatType ? { kft: obj.keyFormatType } : {}),
    ...(obj.subtype ? { sub: obj.subtype } : {}),
    dates,
    attrs: obj.attrs.map((a) => [a.name, encodeTtlv(a.value).toString('base64')]),
  };
  return {
    id: obj.id,
    objectType: obj.objectType,
    state: obj.state,
    owner: obj.owner,
    names: namesOf(obj),
    algorithm,
    attributes: doc,
    material: obj.material,
    revision: obj.revision,
  };
}

export function fromStored(s: StoredObject): ManagedObject {
  const doc = s.attributes as AttributesDoc;
  const dates: LifecycleDates = {};
  for (const [k, v] of Object.entries(doc.dates)) (dates as Record<string, bigint>)[k] = BigInt(v);
  const state = isLifecycleState(s.state) ? s.state : 'PreActive';
  return {
    id: s.id,
    objectType: s.objectType,
    state,
    owner: s.owner,
    revision: s.revision,
    attrs: doc.attrs.map(([name, b64]) => ({ name, value: decodeTtlv(Buffer.from(b64, 'base64')) })),
    dates,
    material: s.material,
    form: doc.form,
    ...(doc.kft ? { keyFormatType: doc.kft } : {}),
    ...(doc.sub ? { subtype: doc.sub } : {}),
  };
}
