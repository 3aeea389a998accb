import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  attributeFrom1x,
  attributeFrom2x,
  attributeReference,
  attributeReferenceName,
  attributeTag,
  attributeTo1x,
  attributeTo2x,
  attributesFrom2x,
  attributesFromTemplate,
  attributesTo2x,
  attributesToTemplate,
  isCustomAttributeName,
  readAttributes,
  writeAttributes,
  type KmipAttribute,
} from './attributes.js';
import { CryptographicAlgorithm, NameType } from './enums.js';
import { KmipError } from './errors.js';
import { Tag } from './tags.js';
import { enumItem, int, struct, text } from './ttlv.js';

const ALG: KmipAttribute = {
  name: 'Cryptographic Algorithm',
  value: enumItem(Tag.AttributeValue, CryptographicAlgorithm.AES),
};
const NAME: KmipAttribute = {
  name: 'Name',
  index: 1,
  value: struct(Tag.AttributeValue, [
    text(Tag.NameValue, 'disk-key'),
    enumItem(Tag.NameType, NameType.UninterpretedTextString),
  ]),
};
const CUSTOM: KmipAttribute = { name: 'x-Product_Version', value: text(Tag.AttributeValue, '8.0.2') };

test('1.x Attribute: name, index (only when non-zero), value', () => {
  const item = attributeTo1x(NAME);
  assert.deepEqual(
    item,
    struct(Tag.Attribute, [text(Tag.AttributeName, 'Name'), int(Tag.AttributeIndex, 1), NAME.value]),
  );
  assert.deepEqual(attributeFrom1x(item), NAME);
  assert.deepEqual(
    attributeTo1x(ALG),
    struct(Tag.Attribute, [text(Tag.AttributeName, 'Cryptographic Algorithm'), ALG.value]),
  );
  assert.deepEqual(
    attributeFrom1x(
      struct(Tag.Attribute, [
        text(Tag.AttributeName, 'State'),
        int(Tag.AttributeIndex, 0),
        int(Tag.AttributeValue, 1),
      ]),
    ),
    {
      name: 'State',
      value: int(Tag.AttributeValue, 1),
    },
  );
});

test('2.x: standard attributes carry their own tag; x- names become vendor attributes', () => {
  assert.deepEqual(attributeTo2x(ALG), enumItem(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES));
  assert.deepEqual(
    attributeTo2x(CUSTOM),
    struct(Tag.Attribute, [
      text(Tag.VendorIdentification, 'x'),
      text(Tag.AttributeName, 'Product_Version'),
      text(Tag.AttributeValue, '8.0.2'),
    ]),
  );
  assert.deepEqual(attributeFrom2x(attributeTo2x(CUSTOM)), CUSTOM);
  assert.deepEqual(attributeFrom2x(attributeTo2x(ALG)), ALG);
  const name = attributeFrom2x(attributeTo2x(NAME));
  assert.equal(name.name, 'Name');
  assert.equal(name.index, undefined, '2.x has no attribute index');
});

test('groups: TemplateAttribute <-> Attributes, and by version', () => {
  const attrs = [ALG, CUSTOM];
  const t1 = attributesToTemplate(attrs);
  assert.equal(t1.tag, Tag.TemplateAttribute);
  assert.deepEqual(attributesFromTemplate(t1), attrs);
  const t2 = attributesTo2x(attrs);
  assert.equal(t2.tag, Tag.Attributes);
  assert.deepEqual(attributesFrom2x(t2), attrs);
  assert.deepEqual(readAttributes(writeAttributes(attrs, 1, Tag.CommonTemplateAttribute)), attrs);
  const w2 = writeAttributes(attrs, 2, Tag.CommonTemplateAttribute);
  assert.equal(w2.tag, Tag.CommonAttributes);
  assert.deepEqual(readAttributes(w2), attrs);
  assert.throws(
    () => readAttributes(int(Tag.BatchCount, 1)),
    (e) => e instanceof KmipError && e.code === 'invalid_field',
  );
});

test('attribute references: enumeration of the tag, or vendor + name', () => {
  const ref = attributeReference('Cryptographic Algorithm');
  assert.deepEqual(ref, enumItem(Tag.AttributeReference, Tag.CryptographicAlgorithm));
  assert.equal(attributeReferenceName(ref), 'Cryptographic Algorithm');
  assert.equal(attributeReferenceName(attributeReference('x-Product_Version')), 'x-Product_Version');
  assert.equal(attributeReferenceName(text(Tag.AttributeName, 'State')), 'State');
  assert.equal(
    attributeReferenceName(attributeReference('ShortUniqueIdentifier')),
    'Short Unique Identifier',
  );
});

test('names: standard table, custom names, errors', () => {
  assert.equal(attributeTag('Cryptographic Usage Mask'), Tag.CryptographicUsageMask);
  assert.equal(attributeTag('PKCS#12 Friendly Name'), Tag.PKCS_12FriendlyName);
  assert.equal(attributeTag('x-anything'), undefined);
  assert.ok(isCustomAttributeName('x-Product_Version'));
  assert.ok(isCustomAttributeName('y-Vendor'));
  assert.ok(!isCustomAttributeName('Name'));
  assert.throws(
    () => attributeTo2x({ name: 'Frobnication', value: text(Tag.AttributeValue, '') }),
    (e) => e instanceof KmipError && e.code === 'unsupported_attribute',
  );
  assert.throws(
    () => attributeFrom1x(struct(Tag.Attribute, [text(Tag.AttributeName, 'State')])),
    (e) => e instanceof KmipError && e.code === 'invalid_field',
  );
  assert.throws(
    () => attributesFromTemplate(struct(Tag.TemplateAttribute, [struct(Tag.Name, [])])),
    (e) => e instanceof KmipError && e.code === 'feature_not_supported',
  );
});
