/**
 * The comparer tolerates exactly what docs/conformance.md lists, and reports anything else with
 * the path of the field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tag, xmlToTtlv } from '../../src/kmip/index.js';
import { compareResponse, type CompareContext } from './compare.js';
import { Bindings, resolveExpected } from './placeholders.js';
import { operationName } from './runner.js';

function ctx(sentBytes: string[] = []): CompareContext {
  return {
    bindings: new Bindings(),
    sentBytes: new Set(sentBytes),
    sentDates: new Set(),
    requiredOperations: new Set([1, 8]),
    requiredObjectTypes: new Set([2]),
  };
}

function response(operation: string, payload: string, header = '<TimeStamp type="DateTime" value="$NOW"/>'): string {
  return `<ResponseMessage><ResponseHeader><ProtocolVersion><ProtocolVersionMajor type="Integer" value="1"/>
    <ProtocolVersionMinor type="Integer" value="4"/></ProtocolVersion>${header}<BatchCount type="Integer" value="1"/></ResponseHeader>
    <BatchItem><Operation type="Enumeration" value="${operation}"/><ResultStatus type="Enumeration" value="Success"/>
    <ResponsePayload>${payload}</ResponsePayload></BatchItem></ResponseMessage>`;
}

const parse = (xml: string) => xmlToTtlv(resolveExpected(xml));
const actual = (xml: string) => xmlToTtlv(xml.replace(/\$NOW/g, '2026-11-30T01:00:00+00:00'));

test('identifiers bind on first sight and must then be equal', () => {
  const c = ctx();
  const exp = parse(response('Activate', '<UniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_0"/>'));
  assert.deepEqual(compareResponse(exp, actual(response('Activate', '<UniqueIdentifier type="TextString" value="k1"/>')), c, operationName), []);
  const again = compareResponse(exp, actual(response('Activate', '<UniqueIdentifier type="TextString" value="k2"/>')), c, operationName);
  assert.equal(again.length, 1);
  assert.equal(again[0]!.path, 'ResponseMessage/BatchItem/ResponsePayload/UniqueIdentifier');
  assert.match(again[0]!.message, /expected \$UNIQUE_IDENTIFIER_0 = "k1", got "k2"/);
});

test('server-chosen key material: same length passes, other length or sent bytes differing fail', () => {
  const key = (hex: string) =>
    response('Get', `<ObjectType type="Enumeration" value="SymmetricKey"/><SymmetricKey><KeyBlock><KeyFormatType type="Enumeration" value="Raw"/>
      <KeyValue><KeyMaterial type="ByteString" value="${hex}"/></KeyValue></KeyBlock></SymmetricKey>`);
  const exp = parse(key('00112233445566778899aabbccddeeff'));
  assert.deepEqual(compareResponse(exp, actual(key('ffeeddccbbaa99887766554433221100')), ctx(), operationName), []);
  const short = compareResponse(exp, actual(key('ffeeddcc')), ctx(), operationName);
  assert.match(short[0]!.message, /expected 16 server-chosen bytes, got 4/);
  // Registered by the client: must come back byte for byte.
  const sent = compareResponse(exp, actual(key('ffeeddccbbaa99887766554433221100')), ctx(['00112233445566778899aabbccddeeff']), operationName);
  assert.equal(sent.length, 1);
  assert.match(sent[0]!.path, /KeyMaterial$/);
});

test('a wrong value, a missing field and an extra field are each reported', () => {
  const exp = parse(response('GetAttributes', `<UniqueIdentifier type="TextString" value="x"/>
    <Attribute><AttributeName type="TextString" value="State"/><AttributeValue type="Enumeration" value="Active"/></Attribute>`));
  const wrong = compareResponse(exp, actual(response('GetAttributes', `<UniqueIdentifier type="TextString" value="x"/>
    <Attribute><AttributeName type="TextString" value="State"/><AttributeValue type="Enumeration" value="PreActive"/></Attribute>`)), ctx(), operationName);
  assert.equal(wrong.length, 1);
  assert.equal(wrong[0]!.path, 'ResponseMessage/BatchItem/ResponsePayload/Attribute/AttributeValue');
  const missing = compareResponse(exp, actual(response('GetAttributes', '<UniqueIdentifier type="TextString" value="x"/>')), ctx(), operationName);
  assert.match(missing[0]!.message, /missing: Attribute "State"/);
  const extra = compareResponse(exp, actual(response('GetAttributes', `<UniqueIdentifier type="TextString" value="x"/>
    <Attribute><AttributeName type="TextString" value="State"/><AttributeValue type="Enumeration" value="Active"/></Attribute>
    <Attribute><AttributeName type="TextString" value="Name"/><AttributeValue><NameValue type="TextString" value="n"/>
    <NameType type="Enumeration" value="UninterpretedTextString"/></AttributeValue></Attribute>`)), ctx(), operationName);
  assert.match(extra[0]!.message, /extra: Attribute "Name"/);
});

test('attributes in another order match; ServerCorrelationValue and ResultMessage are optional', () => {
  const attrs = (a: string, b: string) => `<UniqueIdentifier type="TextString" value="x"/>${a}${b}`;
  const st = '<Attribute><AttributeName type="TextString" value="State"/><AttributeValue type="Enumeration" value="Active"/></Attribute>';
  const len = '<Attribute><AttributeName type="TextString" value="Cryptographic Length"/><AttributeValue type="Integer" value="256"/></Attribute>';
  const exp = parse(response('GetAttributes', attrs(st, len)));
  assert.deepEqual(compareResponse(exp, actual(response('GetAttributes', attrs(len, st))), ctx(), operationName), []);
  const withScv = response('GetAttributes', attrs(st, len), '<TimeStamp type="DateTime" value="$NOW"/><ServerCorrelationValue type="TextString" value="s-1"/>');
  assert.deepEqual(compareResponse(exp, actual(withScv), ctx(), operationName), []);
});

test('a Query answer is checked for form and required content, not equality', () => {
  const q = (ops: string[], objs: string[]) =>
    response('Query', [...ops.map((o) => `<Operation type="Enumeration" value="${o}"/>`), ...objs.map((o) => `<ObjectType type="Enumeration" value="${o}"/>`)].join(''));
  const exp = parse(q(['Create', 'Locate', 'Encrypt'], ['SymmetricKey', 'PGPKey']));
  // Encrypt and PGPKey are not required (no in-scope vector sends them): a server may leave them out.
  assert.deepEqual(compareResponse(exp, actual(q(['Locate', 'Create', 'Get'], ['SymmetricKey'])), ctx(), operationName), []);
  const lacking = compareResponse(exp, actual(q(['Create'], ['SymmetricKey'])), ctx(), operationName);
  assert.equal(lacking.length, 1);
  assert.match(lacking[0]!.message, /missing required value\(s\) 0x8/);
  const repeated = compareResponse(exp, actual(q(['Create', 'Create', 'Locate'], ['SymmetricKey'])), ctx(), operationName);
  assert.match(repeated[0]!.message, /repeats/);
});

test('the expected message tag must match', () => {
  const exp = parse(response('Activate', ''));
  const req = xmlToTtlv('<RequestMessage><RequestHeader><BatchCount type="Integer" value="0"/></RequestHeader></RequestMessage>');
  assert.equal(req.tag, Tag.RequestMessage);
  assert.match(compareResponse(exp, req, ctx(), operationName)[0]!.message, /expected tag ResponseMessage/);
});
