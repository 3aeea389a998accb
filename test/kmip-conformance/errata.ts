/**
 * Vector errata: the few places where an in-scope vector contradicts the KMIP specification or
 * another vector of the same set. Each correction is narrow, applied only where its condition
 * holds, and reported by the runner with the exchange it touched (docs/conformance.md, "Vector
 * errata").
 */
import { EncodingOption, Operation, Tag, encodeTtlv } from '../../src/kmip/index.js';
import type { TtlvItem } from '../../src/kmip/index.js';

type Struct = TtlvItem & { type: 'Structure' };

function isStruct(item: TtlvItem | undefined): item is Struct {
  return item?.type === 'Structure';
}

function childOf(item: TtlvItem | undefined, tag: number): TtlvItem | undefined {
  return isStruct(item) ? item.value.find((c) => c.tag === tag) : undefined;
}

/** A structure with each child mapped (deeply, children first). */
function mapDeep(item: TtlvItem, f: (item: TtlvItem) => TtlvItem): TtlvItem {
  if (!isStruct(item)) return f(item);
  return f({ ...item, value: item.value.map((c) => mapDeep(c, f)) });
}

function batchItems(message: TtlvItem): Struct[] {
  return isStruct(message) ? message.value.filter((c): c is Struct => c.tag === Tag.BatchItem && c.type === 'Structure') : [];
}

function operationOf(item: TtlvItem): number | undefined {
  const op = childOf(item, Tag.Operation);
  return op?.type === 'Enumeration' ? op.value : undefined;
}

function attributeNameOf(attr: TtlvItem): string | undefined {
  const n = childOf(attr, Tag.AttributeName);
  return n?.type === 'TextString' ? n.value.replace(/ {2,}/g, ' ') : undefined;
}

/**
 * `OMOS-O-1-14` expects a response header of KMIP 1.3 to a 1.4 request. A server answers in the
 * request's version (KMIP 1.4 §5), so the expected header version is taken from the request
 * whenever the two differ.
 */
export function headerVersionErratum(expected: TtlvItem, request: TtlvItem): TtlvItem | undefined {
  const pv = (msg: TtlvItem, header: number): TtlvItem | undefined => childOf(childOf(msg, header), Tag.ProtocolVersion);
  const want = pv(request, Tag.RequestHeader);
  const got = pv(expected, Tag.ResponseHeader);
  if (!want || !got || encodeTtlv(want).equals(encodeTtlv(got)) || expected.type !== 'Structure') return undefined;
  return {
    ...expected,
    value: expected.value.map((c) =>
      c.tag === Tag.ResponseHeader && c.type === 'Structure' ? { ...c, value: c.value.map((h) => (h.tag === Tag.ProtocolVersion ? want : h)) } : c,
    ),
  };
}

/**
 * `TC-SENSITIVE-1-14` (exchange 5) expects a key wrapped with Encoding Option No Encoding as a
 * Key Value Byte String, while `TC-WRAP-1-14`, `TC-WRAP-2-14` and `TC-WRAP-3-14` expect (and
 * register) the same No Encoding wrapping as a Key Value structure whose Key Material is the
 * wrapped bytes (KMIP 1.4 §2.1.5: the Encoding Option is "the encoding of the Key Material within
 * the Key Value structure"). The request shapes do not differ in anything the specification ties the
 * encoding to, so the KMS answers one way (the structure) and the lone Byte String expectation is
 * rewritten to that structure; the wrapped bytes still obey the length rule.
 */
export function noEncodingKeyValueErratum(expected: TtlvItem): TtlvItem | undefined {
  let changed = false;
  const out = mapDeep(expected, (item) => {
    if (item.tag !== Tag.KeyBlock || !isStruct(item)) return item;
    const encoding = childOf(childOf(item, Tag.KeyWrappingData), Tag.EncodingOption);
    if (encoding?.type !== 'Enumeration' || encoding.value !== EncodingOption.NoEncoding) return item;
    const value = childOf(item, Tag.KeyValue);
    if (value?.type !== 'ByteString') return item;
    changed = true;
    const material: TtlvItem = { tag: Tag.KeyMaterial, type: 'ByteString', value: value.value };
    return { ...item, value: item.value.map((c) => (c === value ? { tag: Tag.KeyValue, type: 'Structure', value: [material] } : c)) };
  });
  return changed ? out : undefined;
}

/**
 * `SKFF-O-6-11` (exchange 8) lists `Object Group` for a key that no request of the file gave an
 * Object Group: the reference server put its keys in a group of its own (Object Group is "initially
 * set by client or server", KMIP 1.1 §3.33), which no other in-scope vector shows. The name is
 * dropped from an expected GetAttributeList answer when the client never sent the attribute.
 */
export function serverObjectGroupErratum(expected: TtlvItem, clientSentObjectGroup: boolean): TtlvItem | undefined {
  if (clientSentObjectGroup) return undefined;
  let changed = false;
  const out = mapDeep(expected, (item) => {
    if (item.tag !== Tag.BatchItem || !isStruct(item) || operationOf(item) !== Operation.GetAttributeList) return item;
    const payload = childOf(item, Tag.ResponsePayload);
    if (!isStruct(payload)) return item;
    const kept = payload.value.filter((c) => !(c.tag === Tag.AttributeName && c.type === 'TextString' && c.value.replace(/ {2,}/g, ' ') === 'Object Group'));
    if (kept.length === payload.value.length) return item;
    changed = true;
    return { ...item, value: item.value.map((c) => (c === payload ? { ...payload, value: kept } : c)) };
  });
  return changed ? out : undefined;
}

/** Whether a request message gives an Object Group attribute anywhere (1.x name or 2.x tag). */
export function sendsObjectGroup(request: TtlvItem): boolean {
  if (request.tag === Tag.ObjectGroup) return true;
  if (request.tag === Tag.Attribute && attributeNameOf(request) === 'Object Group') return true;
  return isStruct(request) && request.value.some(sendsObjectGroup);
}


/**
 * The attribute names each object (by the expected Unique Identifier, usually a placeholder) was
 * listed with in the expected GetAttributeList answers of a file so far.
 */
export class ListedAttributes {
  private readonly byId = new Map<string, Set<string>>();

  record(expected: TtlvItem): void {
    for (const bi of batchItems(expected)) {
      if (operationOf(bi) !== Operation.GetAttributeList) continue;
      const payload = childOf(bi, Tag.ResponsePayload);
      const id = childOf(payload, Tag.UniqueIdentifier);
      if (!isStruct(payload) || id?.type !== 'TextString') continue;
      const names = new Set<string>();
      for (const c of payload.value) if (c.tag === Tag.AttributeName && c.type === 'TextString') names.add(c.value.replace(/ {2,}/g, ' '));
      this.byId.set(id.value, names);
    }
  }

  /**
   * `TL-M-3-14` (exchange 2): a GetAttributes that names no attribute asks for all of them (KMIP
   * 1.4 §4.12), yet the expected answer leaves out Sensitive, Extractable, Always Sensitive and
   * Never Extractable, which the same file's GetAttributeList (exchange 1) lists for the same key.
   * The reference server contradicts itself; in such an answer, attributes that the file's own
   * GetAttributeList listed for the object and the expected answer lacks are dropped from the
   * actual answer. Returns the corrected actual answer, or undefined when nothing applies.
   */
  allAttributesErratum(request: TtlvItem, expected: TtlvItem, actual: TtlvItem): TtlvItem | undefined {
    const reqItems = batchItems(request);
    const expItems = batchItems(expected);
    const actItems = batchItems(actual);
    if (!isStruct(actual) || reqItems.length !== expItems.length || expItems.length !== actItems.length) return undefined;
    let changed = false;
    const fixed = actItems.map((act, i) => {
      const req = reqItems[i]!;
      const reqPayload = childOf(req, Tag.RequestPayload);
      if (operationOf(req) !== Operation.GetAttributes || !isStruct(reqPayload) || reqPayload.value.some((c) => c.tag === Tag.AttributeName)) return act;
      const expPayload = childOf(expItems[i], Tag.ResponsePayload);
      const id = childOf(expPayload, Tag.UniqueIdentifier);
      const listed = id?.type === 'TextString' ? this.byId.get(id.value) : undefined;
      const actPayload = childOf(act, Tag.ResponsePayload);
      if (!listed || !isStruct(expPayload) || !isStruct(actPayload)) return act;
      const expectedNames = new Set(expPayload.value.filter((c) => c.tag === Tag.Attribute).map(attributeNameOf));
      const kept = actPayload.value.filter((c) => {
        const name = c.tag === Tag.Attribute ? attributeNameOf(c) : undefined;
        return name === undefined || expectedNames.has(name) || !listed.has(name);
      });
      if (kept.length === actPayload.value.length) return act;
      changed = true;
      return { ...act, value: act.value.map((c) => (c === actPayload ? { ...actPayload, value: kept } : c)) };
    });
    if (!changed) return undefined;
    let k = 0;
    return { ...actual, value: actual.value.map((c) => (c.tag === Tag.BatchItem && c.type === 'Structure' ? fixed[k++]! : c)) };
  }
}
