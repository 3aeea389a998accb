import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { xmlToTtlv, ttlvToXml } from './xml.js';
import {
  decodeTtlv,
  encodeTtlv,
  reqEnum,
  child,
  dateTime,
  bytes,
  struct,
  text,
  int,
  enumItem,
} from './ttlv.js';
import { Tag } from './tags.js';
import { CryptographicAlgorithm, CryptographicUsageMask, ObjectType, Operation } from './enums.js';
import { KmipError } from './errors.js';
import { ttlvItemArb } from './test-arbitraries.js';
import { VECTORS_DIR, vectorFiles, vectorMessages } from './test-vectors.js';
import type { TtlvItem } from './ttlv-types.js';

/** Binds placeholders to fixed values, as a runner would. */
function bindPlaceholder(p: { tag: number; type: string; value: string }): TtlvItem | undefined {
  if (p.type === 'DateTime') return dateTime(p.tag, 1_700_000_000n);
  if (p.type === 'ByteString') return bytes(p.tag, new Uint8Array(16));
  return undefined;
}

test('xmlToTtlv parses every RequestMessage and ResponseMessage of every vector (binary and XML round trips)', () => {
  const files = vectorFiles();
  assert.ok(files.length >= 100, `expected the vectors under ${VECTORS_DIR}`);
  let messages = 0;
  for (const file of files) {
    for (const m of vectorMessages(file)) {
      let item: TtlvItem;
      try {
        item = xmlToTtlv(m.xml, { placeholder: bindPlaceholder });
      } catch (e) {
        assert.fail(`${file} <${m.name}>: ${(e as Error).message}`);
      }
      assert.deepEqual(decodeTtlv(encodeTtlv(item)), item, file);
      assert.deepEqual(xmlToTtlv(ttlvToXml(item)), item, `${file}: XML round trip`);
      messages++;
    }
  }
  assert.ok(messages > 1000, `only ${messages} messages`);
});

test('names: enumerations by name, masks, attribute values by attribute name, attribute references', () => {
  const item = xmlToTtlv(`<?xml version="1.0"?>
    <!-- a comment -->
    <RequestMessage>
      <BatchItem>
        <Operation type="Enumeration" value="Create"/>
        <RequestPayload>
          <ObjectType type="Enumeration" value="SymmetricKey"/>
          <TemplateAttribute>
            <Attribute>
              <AttributeName type="TextString" value="Cryptographic Algorithm"/>
              <AttributeValue type="Enumeration" value="AES"/>
            </Attribute>
            <Attribute>
              <AttributeName type="TextString" value="Cryptographic Usage Mask"/>
              <AttributeValue type="Integer" value="Decrypt   Encrypt"/>
            </Attribute>
          </TemplateAttribute>
          <CryptographicUsageMask type="Integer" value="Encrypt|Decrypt"/>
          <AttributeReference type="Enumeration" value="State"/>
          <TTLV tag="0x540001" type="TextString" value="a &amp; b &lt; &#x3A9;"/>
        </RequestPayload>
      </BatchItem>
    </RequestMessage>`);
  const batch = child(item, Tag.BatchItem)!;
  assert.equal(reqEnum(batch, Tag.Operation), Operation.Create);
  const payload = child(batch, Tag.RequestPayload)!;
  assert.equal(reqEnum(payload, Tag.ObjectType), ObjectType.SymmetricKey);
  const attrs = child(payload, Tag.TemplateAttribute)!;
  assert.equal(attrs.type, 'Structure');
  const [alg, mask] = attrs.value as TtlvItem[];
  assert.deepEqual(child(alg!, Tag.AttributeValue), enumItem(Tag.AttributeValue, CryptographicAlgorithm.AES));
  const both = CryptographicUsageMask.Encrypt | CryptographicUsageMask.Decrypt;
  assert.deepEqual(child(mask!, Tag.AttributeValue), int(Tag.AttributeValue, both));
  assert.deepEqual(child(payload, Tag.CryptographicUsageMask), int(Tag.CryptographicUsageMask, both));
  assert.deepEqual(child(payload, Tag.AttributeReference), enumItem(Tag.AttributeReference, Tag.State));
  assert.deepEqual(child(payload, 0x540001), text(0x540001, 'a & b < Ω'));
  const xml = ttlvToXml(item);
  assert.match(xml, /<AttributeValue type="Enumeration" value="AES"\/>/);
  assert.match(xml, /<AttributeValue type="Integer" value="Encrypt Decrypt"\/>/);
  assert.match(xml, /<AttributeReference type="Enumeration" value="State"\/>/);
  assert.match(xml, /<TTLV tag="0x540001" type="TextString" value="a &amp; b &lt; Ω"\/>/);
});

test('DateTime in ISO 8601 with offsets; BigInteger and ByteString in hex', () => {
  const dt = xmlToTtlv('<ActivationDate type="DateTime" value="2000-01-01T00:00:00+10:00"/>');
  assert.deepEqual(dt, dateTime(Tag.ActivationDate, BigInt(Date.UTC(1999, 11, 31, 14) / 1000)));
  assert.equal(
    ttlvToXml(dateTime(Tag.ActivationDate, 0x47da67f8n)).trim(),
    '<ActivationDate type="DateTime" value="2008-03-14T11:56:40+00:00"/>',
  );
  const big = xmlToTtlv('<Modulus type="BigInteger" value="ffffffffffffffff"/>');
  assert.deepEqual(big, { tag: Tag.Modulus, type: 'BigInteger', value: -1n });
  assert.deepEqual(
    xmlToTtlv('<Data type="ByteString" value="0102FF"/>'),
    bytes(Tag.Data, new Uint8Array([1, 2, 255])),
  );
});

test('placeholder hook receives tag, type and text', () => {
  const seen: string[] = [];
  const item = xmlToTtlv('<UniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_0"/>', {
    placeholder: (p) => {
      seen.push(`${p.tag}:${p.type}:${p.value}`);
      return text(p.tag, 'bound');
    },
  });
  assert.deepEqual(item, text(Tag.UniqueIdentifier, 'bound'));
  assert.deepEqual(seen, [`${Tag.UniqueIdentifier}:TextString:$UNIQUE_IDENTIFIER_0`]);
  // Without a hook a TextString placeholder stays text; a DateTime one is not a date.
  assert.deepEqual(xmlToTtlv('<Name type="TextString" value="$X"/>'), text(Tag.Name, '$X'));
  assert.throws(() => xmlToTtlv('<TimeStamp type="DateTime" value="$NOW"/>'), isCode('invalid_field'));
});

function isCode(code: string) {
  return (e: unknown): boolean => e instanceof KmipError && e.code === code;
}

test('malformed XML is KmipError invalid_message; bad values invalid_field', () => {
  const malformed = [
    '',
    '<',
    '<A>',
    '<RequestMessage></ResponseMessage>',
    '<RequestMessage>text</RequestMessage>',
    '<RequestMessage/><RequestMessage/>',
    '<RequestMessage a="1" a="2"/>',
    '<RequestMessage a=1/>',
    '<!DOCTYPE x [<!ENTITY e "x">]><RequestMessage/>',
    '<RequestMessage><![CDATA[x]]></RequestMessage>',
    '<NoSuchTag type="Integer" value="1"/>',
    '<BatchCount type="Float" value="1"/>',
    '<BatchCount type="Integer"/>',
    '<BatchCount type="Integer" value="1"><X/></BatchCount>',
    '<TTLV type="Integer" value="1"/>',
    '<Name type="TextString" value="&bogus;"/>',
    '<Name type="TextString" value="&#xD800;"/>',
    '<RequestMessage value="1"/>',
    '<!-- unterminated',
  ];
  for (const xml of malformed) assert.throws(() => xmlToTtlv(xml), isCode('invalid_message'), xml);
  const badValues = [
    '<BatchCount type="Integer" value="2147483648"/>',
    '<BatchCount type="Integer" value="x"/>',
    '<Operation type="Enumeration" value="Frobnicate"/>',
    '<CryptographicUsageMask type="Integer" value="Encrypt Frob"/>',
    '<Data type="ByteString" value="abc"/>',
    '<Sensitive type="Boolean" value="yes"/>',
    '<ActivationDate type="DateTime" value="2000-02-30T00:00:00Z"/>',
    '<Modulus type="BigInteger" value=""/>',
  ];
  for (const xml of badValues) assert.throws(() => xmlToTtlv(xml), isCode('invalid_field'), xml);
  let deep = '<BatchCount type="Integer" value="1"/>';
  for (let i = 0; i < 40; i++) deep = `<RequestMessage>${deep}</RequestMessage>`;
  assert.throws(() => xmlToTtlv(deep), isCode('invalid_message'));
});

test('property: xmlToTtlv(ttlvToXml(x)) equals x (seeded)', () => {
  fc.assert(
    fc.property(ttlvItemArb, fc.boolean(), (item, pretty) => {
      assert.deepEqual(xmlToTtlv(ttlvToXml(item, { pretty }), { limits: { maxDepth: 1000 } }), item);
    }),
    { seed: 1130, numRuns: 1000 },
  );
});

test('a TTLV structure with attributes survives XML with names kept', () => {
  const s = struct(Tag.TemplateAttribute, [
    struct(Tag.Attribute, [
      text(Tag.AttributeName, 'Object Type'),
      enumItem(Tag.AttributeValue, ObjectType.SecretData),
    ]),
  ]);
  assert.match(ttlvToXml(s), /value="SecretData"/);
  assert.deepEqual(xmlToTtlv(ttlvToXml(s)), s);
});

test('garbage and mutated XML only ever throw KmipError (seeded)', () => {
  const sample =
    '<RequestMessage><RequestHeader><ProtocolVersion><ProtocolVersionMajor type="Integer" value="1"/>' +
    '</ProtocolVersion><BatchCount type="Integer" value="1"/></RequestHeader></RequestMessage>';
  const only = (f: () => unknown): void => {
    try {
      f();
    } catch (e) {
      if (!(e instanceof KmipError)) throw e;
    }
  };
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (s) => only(() => xmlToTtlv(s))),
    { seed: 5, numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.nat({ max: sample.length - 1 }), fc.string({ maxLength: 3 }), (pos, ins) =>
      only(() => xmlToTtlv(sample.slice(0, pos) + ins + sample.slice(pos + 1))),
    ),
    { seed: 6, numRuns: 2000 },
  );
});
