/**
 * Query answers are server-specific: the reference server listed its own operations, objects,
 * profiles and capabilities. A Query response payload is therefore checked for well-formedness and
 * required content instead of equality (test/vectors/kmip/README.md, docs/conformance.md):
 * - every field is one a Query answer may hold, with the item type KMIP gives it, and no list repeats;
 * - Operation / ObjectType: must include what the reference listed AND in-scope vectors use;
 * - VendorIdentification: a non-empty text; ServerInformation: a structure;
 * - ProfileInformation names a ProfileName, RNGParameters an RNGAlgorithm, ValidationInformation a
 *   ValidationAuthorityType;
 * - a list the reference answered (profiles, capabilities, RNGs, operations, objects, server
 *   information) must not come back empty; lists a server may legitimately have none of
 *   (application namespaces, validations, registration methods, attestation types, extensions) may.
 */
import { Tag } from '../../src/kmip/index.js';
import type { TtlvItem } from '../../src/kmip/index.js';

type ItemType = TtlvItem['type'];
import type { CompareContext, Mismatch } from './compare.js';
import { tagName } from './tag-names.js';

const LIST_TYPES: ReadonlyMap<number, ItemType> = new Map<number, ItemType>([
  [Tag.Operation, 'Enumeration'],
  [Tag.ObjectType, 'Enumeration'],
  [Tag.VendorIdentification, 'TextString'],
  [Tag.ServerInformation, 'Structure'],
  [Tag.ApplicationNamespace, 'TextString'],
  [Tag.ExtensionInformation, 'Structure'],
  [Tag.AttestationType, 'Enumeration'],
  [Tag.RNGParameters, 'Structure'],
  [Tag.ProfileInformation, 'Structure'],
  [Tag.ValidationInformation, 'Structure'],
  [Tag.CapabilityInformation, 'Structure'],
  [Tag.ClientRegistrationMethod, 'Enumeration'],
  [Tag.DefaultsInformation, 'Structure'],
  [Tag.ProtectionStorageMasks, 'Structure'],
]);

/** Lists that must not be empty when the reference answered them. */
const MUST_ANSWER = new Set<number>([
  Tag.Operation,
  Tag.ObjectType,
  Tag.VendorIdentification,
  Tag.ServerInformation,
  Tag.RNGParameters,
  Tag.ProfileInformation,
  Tag.CapabilityInformation,
]);

/** A structure list item and the field it must name. */
const MUST_NAME: ReadonlyMap<number, number> = new Map([
  [Tag.ProfileInformation, Tag.ProfileName],
  [Tag.RNGParameters, Tag.RNGAlgorithm],
  [Tag.ValidationInformation, Tag.ValidationAuthorityType],
]);

function byTag(items: readonly TtlvItem[]): Map<number, TtlvItem[]> {
  const m = new Map<number, TtlvItem[]>();
  for (const it of items) {
    const list = m.get(it.tag) ?? [];
    list.push(it);
    m.set(it.tag, list);
  }
  return m;
}

function enumValues(items: readonly TtlvItem[]): number[] {
  return items.flatMap((i) => (i.type === 'Enumeration' ? [i.value] : []));
}

export function compareQueryPayload(
  expected: readonly TtlvItem[],
  actual: readonly TtlvItem[],
  path: string,
  ctx: CompareContext,
): Mismatch[] {
  const out: Mismatch[] = [];
  const exp = byTag(expected);
  const act = byTag(actual);

  for (const [tag, items] of act) {
    const name = `${path}/${tagName(tag)}`;
    const type = LIST_TYPES.get(tag);
    if (!type) {
      out.push({ path: name, message: 'a field a Query answer does not hold' });
      continue;
    }
    items.forEach((it, i) => {
      if (it.type !== type) out.push({ path: `${name}[${i}]`, message: `expected ${type}, got ${it.type}` });
      const must = MUST_NAME.get(tag);
      if (must !== undefined && it.type === 'Structure' && !it.value.some((c) => c.tag === must)) {
        out.push({ path: `${name}[${i}]`, message: `names no ${tagName(must)}` });
      }
    });
    if (type === 'Enumeration') {
      const values = enumValues(items);
      if (new Set(values).size !== values.length) out.push({ path: name, message: 'the list repeats a value' });
    }
    if (tag === Tag.VendorIdentification && items.some((i) => i.type === 'TextString' && i.value.length === 0)) {
      out.push({ path: name, message: 'empty VendorIdentification' });
    }
  }

  for (const [tag, items] of exp) {
    const name = `${path}/${tagName(tag)}`;
    const got = act.get(tag) ?? [];
    if (!LIST_TYPES.has(tag)) {
      out.push({ path: name, message: 'the expected answer holds a field this runner does not know for Query' });
      continue;
    }
    if (MUST_ANSWER.has(tag) && got.length === 0) {
      out.push({ path: name, message: `expected at least one ${tagName(tag)}, got none` });
      continue;
    }
    const required = tag === Tag.Operation ? ctx.requiredOperations : tag === Tag.ObjectType ? ctx.requiredObjectTypes : undefined;
    if (required) {
      const have = new Set(enumValues(got));
      const missing = enumValues(items).filter((v) => required.has(v) && !have.has(v));
      if (missing.length > 0) out.push({ path: name, message: `missing required value(s) 0x${missing.map((v) => v.toString(16)).join(', 0x')}` });
    }
  }
  return out;
}
