/**
 * Each vector erratum applies only where its condition holds (docs/conformance.md, "Vector errata").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tag, child, children, xmlToTtlv, type TtlvItem } from '../../src/kmip/index.js';
import { ListedAttributes, noEncodingKeyValueErratum, sendsObjectGroup, serverObjectGroupErratum } from './errata.js';

function message(kind: 'Request' | 'Response', items: string): TtlvItem {
  const header = `<${kind}Header><ProtocolVersion><ProtocolVersionMajor type="Integer" value="1"/><ProtocolVersionMinor type="Integer" value="4"/></ProtocolVersion></${kind}Header>`;
  return xmlToTtlv(`<${kind}Message>${header}${items}</${kind}Message>`);
}

const item = (op: string, payload: string, kind: 'Request' | 'Response' = 'Response'): string =>
  `<BatchItem><Operation type="Enumeration" value="${op}"/><${kind}Payload>${payload}</${kind}Payload></BatchItem>`;

const attr = (name: string): string =>
  `<Attribute><AttributeName type="TextString" value="${name}"/><AttributeValue type="Boolean" value="true"/></Attribute>`;

function keyBlock(encoding: string, keyValue: string): TtlvItem {
  return message('Response', item('Get', `<SymmetricKey><KeyBlock><KeyFormatType type="Enumeration" value="Raw"/>${keyValue}
    <KeyWrappingData><WrappingMethod type="Enumeration" value="Encrypt"/><EncodingOption type="Enumeration" value="${encoding}"/></KeyWrappingData>
    </KeyBlock></SymmetricKey>`));
}

test('No Encoding: a Key Value Byte String becomes the structure; TTLV encoding and structures are left alone', () => {
  const fixed = noEncodingKeyValueErratum(keyBlock('NoEncoding', '<KeyValue type="ByteString" value="00112233"/>'));
  assert.ok(fixed);
  const bi = child(fixed, Tag.BatchItem)!;
  const kv = child(child(child(child(bi, Tag.ResponsePayload)!, Tag.SymmetricKey)!, Tag.KeyBlock)!, Tag.KeyValue)!;
  assert.equal(kv.type, 'Structure');
  assert.deepEqual(Buffer.from(child(kv, Tag.KeyMaterial)!.value as Uint8Array), Buffer.from('00112233', 'hex'));
  assert.equal(noEncodingKeyValueErratum(keyBlock('TTLVEncoding', '<KeyValue type="ByteString" value="00112233"/>')), undefined);
  assert.equal(noEncodingKeyValueErratum(keyBlock('NoEncoding', '<KeyValue><KeyMaterial type="ByteString" value="00"/></KeyValue>')), undefined);
});

test('server Object Group: dropped from a GetAttributeList answer only when the client never sent one', () => {
  const list = message('Response', item('GetAttributeList', '<UniqueIdentifier type="TextString" value="k"/><AttributeName type="TextString" value="Object   Group"/><AttributeName type="TextString" value="State"/>'));
  const fixed = serverObjectGroupErratum(list, false);
  assert.ok(fixed);
  const names = children(child(child(fixed, Tag.BatchItem)!, Tag.ResponsePayload)!, Tag.AttributeName).map((n) => n.value);
  assert.deepEqual(names, ['State']);
  assert.equal(serverObjectGroupErratum(list, true), undefined);
  const create = message('Request', item('Create', `<TemplateAttribute><Attribute><AttributeName type="TextString" value="Object Group"/><AttributeValue type="TextString" value="g"/></Attribute></TemplateAttribute>`, 'Request'));
  assert.equal(sendsObjectGroup(create), true);
  assert.equal(sendsObjectGroup(message('Request', item('Create', '<TemplateAttribute/>', 'Request'))), false);
});

test('all attributes: only names the file listed for that object and the expected answer lacks are dropped', () => {
  const listed = new ListedAttributes();
  listed.record(message('Response', item('GetAttributeList', '<UniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_0"/><AttributeName type="TextString" value="Sensitive"/><AttributeName type="TextString" value="State"/>')));
  const uidX = '<UniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_0"/>';
  const request = message('Request', item('GetAttributes', '', 'Request'));
  const expected = message('Response', item('GetAttributes', uidX + attr('State')));
  const actual = message('Response', item('GetAttributes', uidX + attr('State') + attr('Sensitive') + attr('Fresh')));
  const fixed = listed.allAttributesErratum(request, expected, actual);
  assert.ok(fixed);
  const names = children(child(child(fixed, Tag.BatchItem)!, Tag.ResponsePayload)!, Tag.Attribute).map((a) => child(a, Tag.AttributeName)!.value);
  assert.deepEqual(names, ['State', 'Fresh'], 'an attribute the list did not name stays (and fails the comparison)');
  const named = message('Request', item('GetAttributes', '<AttributeName type="TextString" value="State"/>', 'Request'));
  assert.equal(listed.allAttributesErratum(named, expected, actual), undefined, 'a GetAttributes that names attributes is compared as is');
});
