import { enumForTag, enumValueName, Tag, type TagName } from '../kmip/index.js';

/**
 * Names of enumeration values by the tag that carries them, and the tag of an attribute by
 * its KMIP 2.x name (thin lookups over the KMIP library's tables).
 */
/**
 * Value names the service uses where the library's table spells them otherwise: the OASIS
 * vectors and KMIP 2.x call Object Type 8 "OpaqueObject".
 */
const ALIASES: ReadonlyMap<number, ReadonlyMap<string, string>> = new Map([[Tag.ObjectType, new Map([['OPAQUEData', 'OpaqueObject']])]]);

export function enumName(tag: number, value: number): string | undefined {
  const def = enumForTag(tag);
  const name = def ? enumValueName(def, value) : undefined;
  return name === undefined ? undefined : (ALIASES.get(tag)?.get(name) ?? name);
}

export function enumValue(tag: number, name: string): number | undefined {
  const values = enumForTag(tag)?.values;
  if (!values) return undefined;
  if (Object.hasOwn(values, name)) return values[name];
  for (const [lib, ours] of ALIASES.get(tag) ?? []) if (ours === name) return values[lib];
  return undefined;
}

export function tagOfName(name: string): number | undefined {
  return Object.prototype.hasOwnProperty.call(Tag, name) ? Tag[name as TagName] : undefined;
}
