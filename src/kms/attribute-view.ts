import { createHash } from 'node:crypto';
import {
  HashingAlgorithm,
  KeyFormatType,
  ProtectionStorageMask,
  State,
  Tag,
  bool,
  bytes,
  dateTime,
  enumItem,
  int,
  interval,
  struct,
  tagByName,
  tagSince,
  text,
  type StructureItem,
} from '../kmip/index.js';
import type { LifecycleDates, ProtocolVersion } from './lifecycle.js';
import { enumValue } from './kmip-values.js';
import type { Attr, ManagedObject } from './objects.js';

/**
 * Every attribute of an object as a client of a given protocol version sees it: the stored client
 * attributes plus the server-managed ones (identifier, type, state, lifecycle dates, digest,
 * fresh, lease time, sensitive/extractable and their history, key format...). An attribute whose
 * tag a version does not know (KMIP's tag tables record when each appeared) is left out for it.
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

/** The lease the KMS grants on keys it gives out (Lease Time), in seconds. */
export const LEASE_SECONDS = 3600;

/** Attributes newer than their tag: the tag existed as a field before it became an attribute. */
const ATTRIBUTE_SINCE: ReadonlyMap<string, string> = new Map([
  ['KeyFormatType', '2.0'],
  ['RandomNumberGenerator', '1.4'],
]);

function known(name: string, v: ProtocolVersion): boolean {
  const tag = tagByName(name);
  const since = ATTRIBUTE_SINCE.get(name) ?? (tag === undefined ? undefined : tagSince(tag));
  if (since === undefined) return true;
  const [major, minor] = since.split('.').map(Number) as [number, number];
  return v.major > major || (v.major === major && v.minor >= minor);
}

/** The Digest attribute of key material: SHA-256 of the Raw key (KMIP's default digest). */
export function digestOf(material: Uint8Array): StructureItem {
  return struct(Tag.Digest, [
    enumItem(Tag.HashingAlgorithm, HashingAlgorithm.SHA_256),
    bytes(Tag.DigestValue, createHash('sha256').update(material).digest()),
    enumItem(Tag.KeyFormatType, KeyFormatType.Raw),
  ]);
}

export function objectAttributes(obj: ManagedObject, v: ProtocolVersion): Attr[] {
  const isKey = obj.objectType === 'SymmetricKey' || obj.objectType === 'SecretData';
  const out: Attr[] = [
    { name: 'UniqueIdentifier', value: text(Tag.UniqueIdentifier, obj.id) },
    { name: 'ShortUniqueIdentifier', value: bytes(Tag.ShortUniqueIdentifier, createHash('sha256').update(obj.id).digest()) },
    { name: 'ObjectType', value: enumItem(Tag.ObjectType, enumValue(Tag.ObjectType, obj.objectType) ?? 0) },
  ];
  out.push(...obj.attrs.filter((a) => a.name !== 'Digest'));
  out.push({ name: 'State', value: enumItem(Tag.State, State[obj.state]) });
  for (const [key, name] of DATE_TAGS) {
    const d = obj.dates[key];
    if (d !== undefined) out.push({ name, value: dateTime(Tag[name as 'InitialDate'], d) });
  }
  const digest = obj.form === 'key' && obj.material ? digestOf(obj.material) : obj.attrs.find((a) => a.name === 'Digest')?.value;
  if (digest && digest.type === 'Structure') {
    // KMIP 1.0's Digest has no Key Format Type.
    const fields = v.major > 1 || v.minor >= 1 ? digest.value : digest.value.filter((c) => c.tag !== Tag.KeyFormatType);
    out.push({ name: 'Digest', value: struct(Tag.Digest, fields) });
  }
  if (isKey) {
    if (obj.keyFormatType) out.push({ name: 'KeyFormatType', value: enumItem(Tag.KeyFormatType, enumValue(Tag.KeyFormatType, obj.keyFormatType) ?? 1) });
    out.push({ name: 'LeaseTime', value: interval(Tag.LeaseTime, LEASE_SECONDS) });
    const has = (n: string): boolean => obj.attrs.some((a) => a.name === n);
    if (!has('Fresh')) out.push({ name: 'Fresh', value: bool(Tag.Fresh, true) });
    if (obj.material === null && obj.state !== 'Destroyed' && obj.state !== 'DestroyedCompromised') {
      out.push({ name: 'KeyValuePresent', value: bool(Tag.KeyValuePresent, false) });
    }
    out.push({ name: 'ProtectionStorageMask', value: int(Tag.ProtectionStorageMask, ProtectionStorageMask.Software) });
  }
  return out.filter((a) => known(a.name, v));
}

/** The distinct attribute names an object has, in order. */
export function attributeNames(obj: ManagedObject, v: ProtocolVersion): string[] {
  return [...new Set(objectAttributes(obj, v).map((a) => a.name))];
}
