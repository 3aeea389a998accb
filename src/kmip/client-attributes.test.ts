import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tag } from './tags.js';
import { struct, text, int, enumItem, encodeTtlv, decodeTtlv } from './ttlv.js';
import {
  attributeGroup,
  attributeNameOfTag,
  attributeSelectors,
  attributeTagOfName,
  locateAttributes,
  nameAttribute,
  readAttributes,
} from './client-attributes.js';
import { CommonError } from '../common/errors.js';

const V12 = { major: 1, minor: 2 };
const V20 = { major: 2, minor: 0 };

test('1.x attribute names map to tags and back', () => {
  const cases: [string, number][] = [
    ['Cryptographic Algorithm', Tag.CryptographicAlgorithm],
    ['Cryptographic Usage Mask', Tag.CryptographicUsageMask],
    ['Unique Identifier', Tag.UniqueIdentifier],
    ['State', Tag.State],
    ['Name', Tag.Name],
    ['Activation Date', Tag.ActivationDate],
  ];
  for (const [name, tag] of cases) {
    assert.equal(attributeNameOfTag(tag), name);
    assert.equal(attributeTagOfName(name), tag);
  }
  assert.equal(attributeTagOfName('x-Product_Version'), undefined);
  assert.equal(attributeTagOfName('No Such Attribute'), undefined);
});

test('a Create attribute group is a Template-Attribute at 1.x and Attributes at 2.x', () => {
  const items = [enumItem(Tag.CryptographicAlgorithm, 3), int(Tag.CryptographicLength, 256), nameAttribute('k1')];
  const g1 = attributeGroup(V12, items);
  assert.equal(g1.tag, Tag.TemplateAttribute);
  assert.deepEqual(g1, {
    tag: Tag.TemplateAttribute,
    type: 'Structure',
    value: [
      struct(Tag.Attribute, [text(Tag.AttributeName, 'Cryptographic Algorithm'), enumItem(Tag.AttributeValue, 3)]),
      struct(Tag.Attribute, [text(Tag.AttributeName, 'Cryptographic Length'), int(Tag.AttributeValue, 256)]),
      struct(Tag.Attribute, [
        text(Tag.AttributeName, 'Name'),
        struct(Tag.AttributeValue, [text(Tag.NameValue, 'k1'), enumItem(Tag.NameType, 1)]),
      ]),
    ],
  });
  assert.deepEqual(attributeGroup(V20, items), struct(Tag.Attributes, items));
});

test('Locate criteria are bare Attributes at 1.x and one Attributes structure at 2.x', () => {
  const items = [enumItem(Tag.State, 2)];
  assert.deepEqual(locateAttributes(V12, items), [struct(Tag.Attribute, [text(Tag.AttributeName, 'State'), enumItem(Tag.AttributeValue, 2)])]);
  assert.deepEqual(locateAttributes(V20, items), [struct(Tag.Attributes, items)]);
  assert.deepEqual(locateAttributes(V20, []), []);
});

test('GetAttributes selectors: Attribute Name at 1.x, Attribute Reference (the tag) at 2.x', () => {
  assert.deepEqual(attributeSelectors(V12, ['State', 'x-Vendor']), [text(Tag.AttributeName, 'State'), text(Tag.AttributeName, 'x-Vendor')]);
  assert.deepEqual(attributeSelectors(V20, ['State']), [enumItem(Tag.AttributeReference, Tag.State)]);
  assert.throws(() => attributeSelectors(V20, ['x-Vendor']), (e: unknown) => e instanceof CommonError && e.code === 'not_supported');
});

test('readAttributes reads both encodings, after a TTLV round trip', () => {
  const p1 = struct(Tag.ResponsePayload, [
    text(Tag.UniqueIdentifier, '7'),
    struct(Tag.Attribute, [text(Tag.AttributeName, 'State'), enumItem(Tag.AttributeValue, 1)]),
    struct(Tag.Attribute, [text(Tag.AttributeName, 'Name'), int(Tag.AttributeIndex, 0), struct(Tag.AttributeValue, [text(Tag.NameValue, 'n')])]),
    struct(Tag.Attribute, [text(Tag.AttributeName, 'x-Vendor'), text(Tag.AttributeValue, 'acme')]),
  ]);
  const got1 = readAttributes(decodeTtlv(encodeTtlv(p1)));
  assert.deepEqual(got1, [
    { name: 'State', value: enumItem(Tag.State, 1) },
    { name: 'Name', index: 0, value: struct(Tag.Name, [text(Tag.NameValue, 'n')]) },
    { name: 'x-Vendor', value: text(Tag.AttributeValue, 'acme') },
  ]);
  const p2 = struct(Tag.ResponsePayload, [text(Tag.UniqueIdentifier, '7'), struct(Tag.Attributes, [enumItem(Tag.State, 2), int(Tag.CryptographicLength, 128)])]);
  assert.deepEqual(readAttributes(decodeTtlv(encodeTtlv(p2))), [
    { name: 'State', value: enumItem(Tag.State, 2) },
    { name: 'Cryptographic Length', value: int(Tag.CryptographicLength, 128) },
  ]);
});
