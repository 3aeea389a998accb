/**
 * Compares an actual KMIP response with the expected one of a vector, field by field, and names the
 * path of every mismatch (`ResponseMessage/BatchItem[0]/ResponsePayload/Attribute[2]/AttributeValue`).
 *
 * Tolerated, and only these (docs/conformance.md):
 * - DateTime: `$NOW` (any time), and literal times the reference server chose (any time); a time the
 *   client sent in a request must come back equal;
 * - `$UNIQUE_IDENTIFIER_n` binds on first sight, then must be equal; `$UNIQUE_IDENTIFIER` is any text;
 * - byte strings that depend on random keys (key material, digests, wrapped keys, IVs, MACs,
 *   short unique identifiers): same length, unless the client sent those bytes in a request;
 * - ServerCorrelationValue and ResultMessage: absent or any text;
 * - a Query response: VendorIdentification and ServerInformation any content; the lists are checked
 *   for well-formedness and required content (query-lists.ts), not for equality;
 * - the order of attributes in GetAttributes answers and of identifiers in Locate answers;
 * - LocatedItems in a Locate answer whose expected form has none (a server MAY include it, KMIP 1.3
 *   §4.9): it must then be an Integer no smaller than the identifiers returned;
 * - the content of the Random Number Generator attribute (the server's own generator, like a Query
 *   for RNGs): it must name an RNGAlgorithm;
 * - runs of spaces in AttributeName values: the published 1.0 vectors carry transcription artifacts
 *   such as "Unique   Identifier".
 */
import { Tag } from '../../src/kmip/index.js';
import type { TtlvItem } from '../../src/kmip/index.js';
import { ANY_DATETIME, isAnyBytes, type Bindings } from './placeholders.js';
import { compareQueryPayload } from './query-lists.js';
import { tagName } from './tag-names.js';

export interface Mismatch {
  readonly path: string;
  readonly message: string;
}

export interface CompareContext {
  readonly bindings: Bindings;
  /** Hex of every ByteString the client sent so far in this file. */
  readonly sentBytes: ReadonlySet<string>;
  /** Every DateTime (seconds) the client sent so far in this file. */
  readonly sentDates: ReadonlySet<bigint>;
  /** Operations (enum numbers) that in-scope vectors send: a Query must advertise those it is asked about. */
  readonly requiredOperations: ReadonlySet<number>;
  readonly requiredObjectTypes: ReadonlySet<number>;
}

/** Byte strings whose value depends on a key or nonce the server generated. */
const RANDOM_BYTES = new Set<number>([
  Tag.KeyMaterial,
  Tag.DigestValue,
  Tag.KeyValue,
  Tag.MACSignature,
  Tag.IVCounterNonce,
  Tag.ShortUniqueIdentifier,
  Tag.Data,
]);

const OPTIONAL_ANY = new Set<number>([Tag.ServerCorrelationValue, Tag.ResultMessage]);

/** Parents whose children may come in any order. */
const UNORDERED_OPERATIONS = new Set(['GetAttributes', 'Locate', 'GetAttributeList']);

const UID_PLACEHOLDER = /^\$UNIQUE_IDENTIFIER_(\d+)$/;

export function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

function describe(item: TtlvItem): string {
  switch (item.type) {
    case 'Structure':
      return `Structure(${item.value.length} fields)`;
    case 'ByteString':
      return `ByteString(${item.value.length} bytes)`;
    case 'TextString':
      return JSON.stringify(item.value);
    default:
      return `${item.type} ${String(item.value)}`;
  }
}

/**
 * The Random Number Generator attribute (KMIP 1.3+) names the server's own generator, as a Query
 * for RNGs does: its content is server-specific, its form is checked (an RNGAlgorithm).
 */
function isRngValue(item: TtlvItem, inRngAttribute: boolean): boolean {
  return item.tag === Tag.RandomNumberGenerator || (inRngAttribute && item.tag === Tag.AttributeValue);
}

/** What a field is, for a diff of two lists: an attribute by its name, anything else by its tag. */
function fieldKey(item: TtlvItem): string {
  if (item.tag === Tag.AttributeName && item.type === 'TextString') return `"${item.value.replace(/ {2,}/g, ' ')}"`;
  if (item.tag === Tag.Attribute && item.type === 'Structure') {
    const n = item.value.find((c) => c.tag === Tag.AttributeName);
    if (n?.type === 'TextString') return `Attribute "${n.value}"`;
  }
  return tagName(item.tag);
}

/** The fields one list has and the other lacks, as multisets of fieldKey. */
function difference(exp: readonly TtlvItem[], act: readonly TtlvItem[]): { missing: string[]; extra: string[] } {
  const left = act.map(fieldKey);
  const missing: string[] = [];
  for (const k of exp.map(fieldKey)) {
    const i = left.indexOf(k);
    if (i >= 0) left.splice(i, 1);
    else missing.push(k);
  }
  return { missing, extra: left };
}

/** `Name` for a field alone of its tag among its siblings, `Name[k]` for the k-th of several. */
function labeller(siblings: readonly TtlvItem[]): (tag: number, k: number) => string {
  const total = new Map<number, number>();
  for (const c of siblings) total.set(c.tag, (total.get(c.tag) ?? 0) + 1);
  return (tag, k) => ((total.get(tag) ?? 0) > 1 ? `${tagName(tag)}[${k}]` : tagName(tag));
}

export class Comparer {
  readonly mismatches: Mismatch[] = [];
  /** The operation name of the batch item being compared (for operation-specific rules). */
  private operation = '';
  /** Inside a 1.x Attribute named "Random Number Generator". */
  private rngAttribute = false;

  constructor(
    private readonly ctx: CompareContext,
    private readonly operationName: (value: number) => string,
  ) {}

  private fail(path: string, message: string): void {
    this.mismatches.push({ path, message });
  }

  compare(expected: TtlvItem, actual: TtlvItem, path: string): void {
    if (expected.tag !== actual.tag) {
      this.fail(path, `expected tag ${tagName(expected.tag)}, got ${tagName(actual.tag)}`);
      return;
    }
    if (expected.type !== actual.type) {
      this.fail(path, `expected ${expected.type}, got ${describe(actual)}`);
      return;
    }
    if (expected.type === 'Structure' && actual.type === 'Structure') {
      if (expected.tag === Tag.BatchItem) this.operation = this.batchOperation(expected);
      if (isRngValue(expected, this.rngAttribute)) {
        this.rngAttribute = false;
        if (!actual.value.some((c) => c.tag === Tag.RNGAlgorithm && c.type === 'Enumeration')) this.fail(path, 'names no RNGAlgorithm');
        return;
      }
      if (expected.tag === Tag.Attribute) {
        const name = expected.value.find((c) => c.tag === Tag.AttributeName);
        this.rngAttribute = name?.type === 'TextString' && name.value === 'Random Number Generator';
      }
      if (expected.tag === Tag.ResponsePayload && this.operation === 'Query') {
        for (const m of compareQueryPayload(expected.value, actual.value, path, this.ctx)) this.mismatches.push(m);
        return;
      }
      const unordered = expected.tag === Tag.ResponsePayload && UNORDERED_OPERATIONS.has(this.operation);
      this.compareChildren(expected.value, actual.value, path, unordered || expected.tag === Tag.Attributes);
      return;
    }
    this.compareLeaf(expected, actual, path);
  }

  private batchOperation(item: TtlvItem & { type: 'Structure' }): string {
    const op = item.value.find((c) => c.tag === Tag.Operation);
    return op && op.type === 'Enumeration' ? this.operationName(op.value) : '';
  }

  private compareLeaf(expected: TtlvItem, actual: TtlvItem, path: string): void {
    switch (expected.type) {
      case 'DateTime': {
        if (actual.type !== 'DateTime') return;
        if (expected.value === ANY_DATETIME) return;
        if (this.ctx.sentDates.has(expected.value) && actual.value !== expected.value) {
          this.fail(path, `expected the DateTime the client sent (${expected.value}), got ${actual.value}`);
        }
        return;
      }
      case 'TextString': {
        if (actual.type !== 'TextString') return;
        if (OPTIONAL_ANY.has(expected.tag)) return;
        if (expected.value === '$UNIQUE_IDENTIFIER') return;
        const m = UID_PLACEHOLDER.exec(expected.value);
        if (m) {
          const err = this.ctx.bindings.bind(expected.value, actual.value);
          if (err) this.fail(path, err);
          return;
        }
        const norm = (v: string): string => (expected.tag === Tag.AttributeName ? v.replace(/ {2,}/g, ' ') : v);
        if (norm(expected.value) !== norm(actual.value)) {
          this.fail(path, `expected ${JSON.stringify(expected.value)}, got ${JSON.stringify(actual.value)}`);
        }
        return;
      }
      case 'ByteString': {
        if (actual.type !== 'ByteString') return;
        const e = hex(expected.value);
        if (isAnyBytes(e)) return;
        const a = hex(actual.value);
        if (e === a) return;
        if (RANDOM_BYTES.has(expected.tag) && !this.ctx.sentBytes.has(e)) {
          if (expected.value.length !== actual.value.length) {
            this.fail(path, `expected ${expected.value.length} server-chosen bytes, got ${actual.value.length}`);
          }
          return;
        }
        this.fail(path, `expected bytes ${e.slice(0, 64)}${e.length > 64 ? '…' : ''}, got ${a.slice(0, 64)}${a.length > 64 ? '…' : ''}`);
        return;
      }
      default:
        if (expected.type === actual.type && expected.value !== actual.value) {
          this.fail(path, `expected ${describe(expected)}, got ${describe(actual)}`);
        }
    }
  }

  private compareChildren(expected: readonly TtlvItem[], actual: readonly TtlvItem[], path: string, unordered: boolean): void {
    const exp = expected.filter((c) => !OPTIONAL_ANY.has(c.tag));
    let act = actual.filter((c) => !OPTIONAL_ANY.has(c.tag));
    if (this.operation === 'Locate' && !exp.some((c) => c.tag === Tag.LocatedItems)) {
      const located = act.find((c) => c.tag === Tag.LocatedItems);
      if (located) {
        const ids = act.filter((c) => c.tag === Tag.UniqueIdentifier).length;
        if (located.type !== 'Integer' || located.value < ids) {
          this.fail(`${path}/LocatedItems`, `expected an Integer >= ${ids} (the identifiers returned), got ${describe(located)}`);
        }
        act = act.filter((c) => c !== located);
      }
    }
    for (const c of actual) {
      if (OPTIONAL_ANY.has(c.tag) && c.type !== 'TextString') this.fail(`${path}/${tagName(c.tag)}`, `expected a TextString, got ${c.type}`);
    }
    const names = (items: readonly TtlvItem[]): string => items.map((c) => tagName(c.tag)).join(',');
    if (exp.length !== act.length) {
      const { missing, extra } = difference(exp, act);
      this.fail(
        path,
        `expected ${exp.length} fields [${names(exp)}], got ${act.length} [${names(act)}]` +
          (missing.length > 0 ? `; missing: ${missing.join(', ')}` : '') +
          (extra.length > 0 ? `; extra: ${extra.join(', ')}` : ''),
      );
      this.compareOrdered(exp, act, path, true);
      return;
    }
    if (!unordered) {
      this.compareOrdered(exp, act, path, false);
      return;
    }
    // Unordered: each expected child takes the first unused actual child that matches it cleanly.
    const used = new Set<number>();
    const counts = new Map<number, number>();
    const label = labeller(exp);
    for (const e of exp) {
      const n = counts.get(e.tag) ?? 0;
      counts.set(e.tag, n + 1);
      const childPath = `${path}/${label(e.tag, n)}`;
      let matched = -1;
      for (let i = 0; i < act.length; i++) {
        if (used.has(i) || act[i]!.tag !== e.tag) continue;
        const trial = new Comparer({ ...this.ctx, bindings: this.ctx.bindings.clone() }, this.operationName);
        trial.operation = this.operation;
        trial.compare(e, act[i]!, childPath);
        if (trial.mismatches.length === 0) {
          this.ctx.bindings.assign(trial.ctx.bindings);
          matched = i;
          break;
        }
      }
      if (matched >= 0) {
        used.add(matched);
        continue;
      }
      const firstSameTag = act.findIndex((a, i) => !used.has(i) && a.tag === e.tag);
      if (firstSameTag < 0) {
        this.fail(childPath, 'expected field is missing');
        continue;
      }
      used.add(firstSameTag);
      this.compare(e, act[firstSameTag]!, childPath);
    }
  }

  /** In order; with `prefixOnly`, compares the common prefix only (the count mismatch was reported). */
  private compareOrdered(exp: readonly TtlvItem[], act: readonly TtlvItem[], path: string, prefixOnly: boolean): void {
    const counts = new Map<number, number>();
    const label = labeller(exp);
    const n = Math.min(exp.length, act.length);
    for (let i = 0; i < n; i++) {
      const e = exp[i]!;
      const k = counts.get(e.tag) ?? 0;
      counts.set(e.tag, k + 1);
      if (prefixOnly && e.tag !== act[i]!.tag) return;
      this.compare(e, act[i]!, `${path}/${label(e.tag, k)}`);
    }
  }
}

/** All mismatches between an expected and an actual response message. */
export function compareResponse(
  expected: TtlvItem,
  actual: TtlvItem,
  ctx: CompareContext,
  operationName: (value: number) => string,
): Mismatch[] {
  const c = new Comparer(ctx, operationName);
  c.compare(expected, actual, tagName(expected.tag));
  return c.mismatches;
}
