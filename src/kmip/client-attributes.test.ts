import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tag } from './tags.js';
import { struct, text, int, enumItem, encodeTtlv, decodeTtlv } from './ttlv.js';
import {
  attributeGroup,
  attributeSelectors,
  enumAttribute,
  intAttribute,
  locateAttributes,
  nameAttribute,
  responseAttributes,
} from './client-attributes.js';

const V12 = { major: 1, minor: 2 };
const V20 = { major: 2, minor: 0 };

test('a Create attribute group is a Template-Attribute at 1.x and Attributes at 2.x', () => {
  const attrs = [
    enumAttribute('Cryptographic Algorithm', 3),
    intAttribute('Cryptographic Length', 256),
    nameAttribute('k1'),
  ];
  assert.deepEqual(
    attributeGroup(V12, attrs),
    struct(Tag.TemplateAttribute, [
      struct(Tag.Attribute, [
        text(Tag.AttributeName, 'Cryptographic Algorithm'),
        enumItem(Tag.AttributeValue, 3),
      ]),
      struct(Tag.Attribute, [text(Tag.AttributeName, 'Cryptographic Length'), int(Tag.AttributeValue, 256)]),
      struct(Tag.Attribute, [
        text(Tag.AttributeName, 'Name'),
        struct(Tag.AttributeValue, [text(Tag.NameValue, 'k1'), enumItem(Tag.NameType, 1)]),
      ]),
    ]),
  );
  assert.deepEqual(
    attributeGroup(V20, attrs),
    struct(Tag.Attributes, [
      enumItem(Tag.CryptographicAlgorithm, 3),
      int(Tag.CryptographicLength, 256),
      struct(Tag.Name, [text(Tag.NameValue, 'k1'), enumItem(Tag.NameType, 1)]),
    ]),
  );
});

test('Locate criteria are bare Attributes at 1.x and one Attributes structure at 2.x', () => {
  const attrs = [enumAttribute('State', 2)];
  assert.deepEqual(locateAttributes(V12, attrs), [
    struct(Tag.Attribute, [text(Tag.AttributeName, 'State'), enumItem(Tag.AttributeValue, 2)]),
  ]);
  assert.deepEqual(locateAttributes(V20, attrs), [struct(Tag.Attributes, [enumItem(Tag.State, 2)])]);
  assert.deepEqual(locateAttributes(V20, []), []);
});

test('GetAttributes selectors: Attribute Name at 1.x, Attribute Reference at 2.x', () => {
  assert.deepEqual(attributeSelectors(V12, ['State', 'x-Vendor']), [
    text(Tag.AttributeName, 'State'),
    text(Tag.AttributeName, 'x-Vendor'),
  ]);
  assert.deepEqual(attributeSelectors(V20, ['State']), [enumItem(Tag.AttributeReference, Tag.State)]);
  assert.deepEqual(attributeSelectors(V20, ['x-Vendor']), [
    struct(Tag.AttributeReference, [text(Tag.VendorIdentification, 'x'), text(Tag.AttributeName, 'Vendor')]),
  ]);
});

test('responseAttributes reads both encodings, after a TTLV round trip', () => {
  const p1 = struct(Tag.ResponsePayload, [
    text(Tag.UniqueIdentifier, '7'),
    struct(Tag.Attribute, [text(Tag.AttributeName, 'State'), enumItem(Tag.AttributeValue, 1)]),
    struct(Tag.Attribute, [
      text(Tag.AttributeName, 'Name'),
      int(Tag.AttributeIndex, 1),
      struct(Tag.AttributeValue, [text(Tag.NameValue, 'n')]),
    ]),
    struct(Tag.Attribute, [text(Tag.AttributeName, 'x-Vendor'), text(Tag.AttributeValue, 'acme')]),
  ]);
  assert.deepEqual(responseAttributes(decodeTtlv(encodeTtlv(p1))), [
    { name: 'State', value: enumItem(Tag.AttributeValue, 1) },
    { name: 'Name', index: 1, value: struct(Tag.AttributeValue, [text(Tag.NameValue, 'n')]) },
    { name: 'x-Vendor', value: text(Tag.AttributeValue, 'acme') },
  ]);
  const p2 = struct(Tag.ResponsePayload, [
    text(Tag.UniqueIdentifier, '7'),
    struct(Tag.Attributes, [enumItem(Tag.State, 2), int(Tag.CryptographicLength, 128)]),
  ]);
  assert.deepEqual(responseAttributes(decodeTtlv(encodeTtlv(p2))), [
    { name: 'State', value: enumItem(Tag.AttributeValue, 2) },
    { name: 'Cryptographic Length', value: int(Tag.AttributeValue, 128) },
  ]);
});
