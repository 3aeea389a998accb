import { createHash } from 'node:crypto';
import { HashingAlgorithm, KeyFormatType, State, Tag, bool, dateTime, enumItem, struct, bytes, text } from '../kmip/index.js';
import type { LifecycleDates } from './lifecycle.js';
import { enumValue } from './kmip-values.js';
import type { Attr, ManagedObject } from './objects.js';

/**
 * Every attribute of an object as a client sees it: the stored client attributes plus the
 * server-managed ones (identifier, type, state, lifecycle dates, digest, key value present).
 */
const DATE_TAGS: ReadonlyArray<[keyof LifecycleDates, string]> = [
  ['initialDate', 'InitialDate'],
  ['activationDate', 'ActivationDate'],
  ['processStartDate', 'ProcessStartDate'],
  ['protectStopDate', 'ProtectStopDate'],
  ['deactivationDate', 'DeactivationDate'],
  ['destroyDate', 'DestroyDate'],
  ['compromiseOccurrenceDate', 'CompromiseOccurrenceDate'],
  ['compromiseDate', 'CompromiseDate'],
  ['lastChangeDate', 'LastChangeDate'],
];

export function dateAttrName(key: keyof LifecycleDates): string {
  return (DATE_TAGS.find(([k]) => k === key) as [keyof LifecycleDates, string])[1];
}

export function objectAttributes(obj: ManagedObject): Attr[] {
  const out: Attr[] = [
    { name: 'UniqueIdentifier', value: text(Tag.UniqueIdentifier, obj.id) },
    { name: 'ObjectType', value: enumItem(Tag.ObjectType, enumValue(Tag.ObjectType, obj.objectType) ?? 0) },
  ];
  out.push(...obj.attrs);
  out.push({ name: 'State', value: enumItem(Tag.State, State[obj.state]) });
  for (const [key, name] of DATE_TAGS) {
    const v = obj.dates[key];
    if (v !== undefined) out.push({ name, value: dateTime(Tag[name as 'InitialDate'], v) });
  }
  if (obj.form === 'key' && obj.material) {
    out.push({
      name: 'Digest',
      value: struct(Tag.Digest, [
        enumItem(Tag.HashingAlgorithm, HashingAlgorithm.SHA_256),
        bytes(Tag.DigestValue, createHash('sha256').update(obj.material).digest()),
        enumItem(Tag.KeyFormatType, KeyFormatType.Raw),
      ]),
    });
  }
  if (obj.objectType === 'SymmetricKey' || obj.objectType === 'SecretData' || obj.objectType === 'PrivateKey') {
    out.push({ name: 'KeyValuePresent', value: bool(Tag.KeyValuePresent, obj.material !== null) });
  }
  return out;
}

/** The attributes with this name, in order. */
export function attributesNamed(obj: ManagedObject, name: string): Attr[] {
  return objectAttributes(obj).filter((a) => a.name === name);
}

/** The distinct attribute names an object has, in order. */
export function attributeNames(obj: ManagedObject): string[] {
  return [...new Set(objectAttributes(obj).map((a) => a.name))];
}

