import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { jsonToTtlv, ttlvToJson, ttlvToJsonValue } from './json.js';
import { xmlToTtlv } from './xml.js';
import { CryptographicUsageMask, ObjectType } from './enums.js';
import { KmipError } from './errors.js';
import { Tag } from './tags.js';
import { bigInt, bytes, dateTime, enumItem, int, long, struct, text } from './ttlv.js';
import { ttlvItemArb } from './test-arbitraries.js';
import { vectorFiles, vectorMessages } from './test-vectors.js';

test('JSON form: tag names, types, enumerations by name, masks with |', () => {
  const item = struct(Tag.RequestPayload, [
    enumItem(Tag.ObjectType, ObjectType.SymmetricKey),
    int(Tag.CryptographicUsageMask, CryptographicUsageMask.Encrypt | CryptographicUsageMask.Decrypt),
    long(Tag.DataLength, 1n << 60n),
    bigInt(Tag.Modulus, 65537n),
    bytes(Tag.Data, new Uint8Array([0xde, 0xad])),
    dateTime(Tag.ActivationDate, 0x47da67f8n),
    text(0x540002, 'ext'),
  ]);
  assert.deepEqual(ttlvToJsonValue(item), {
    tag: 'RequestPayload',
    value: [
      { tag: 'ObjectType', type: 'Enumeration', value: 'SymmetricKey' },
      { tag: 'CryptographicUsageMask', type: 'Integer', value: 'Encrypt|Decrypt' },
      { tag: 'DataLength', type: 'LongInteger', value: '0x1000000000000000' },
      { tag: 'Modulus', type: 'BigInteger', value: '0x0000000000010001' },
      { tag: 'Data', type: 'ByteString', value: 'dead' },
      { tag: 'ActivationDate', type: 'DateTime', value: '2008-03-14T11:56:40+00:00' },
      { tag: '0x540002', type: 'TextString', value: 'ext' },
    ],
  });
  assert.deepEqual(jsonToTtlv(ttlvToJson(item)), item);
  assert.deepEqual(
    jsonToTtlv('{"tag":"BatchCount","type":"Integer","value":"0x00000002"}'),
    int(Tag.BatchCount, 2),
  );
});

test('every vector message survives XML -> TTLV -> JSON -> TTLV', () => {
  let n = 0;
  for (const file of vectorFiles()) {
    for (const m of vectorMessages(file)) {
      const item = xmlToTtlv(m.xml, {
        placeholder: (p) =>
          p.type === 'DateTime'
            ? dateTime(p.tag, 1n)
            : p.type === 'ByteString'
              ? bytes(p.tag, new Uint8Array(1))
              : undefined,
      });
      assert.deepEqual(jsonToTtlv(ttlvToJson(item)), item, file);
      n++;
    }
  }
  assert.ok(n > 1000);
});

test('malformed JSON: invalid_message; bad values: invalid_field', () => {
  const malformed = [
    '',
    '{',
    '[]',
    '{"tag":"NoSuchTag","value":[]}',
    '{"tag":"RequestMessage","value":{}}',
    '{"tag":"RequestMessage","type":"Nope","value":[]}',
    '{"tag":"BatchCount","type":"Integer","value":[1]}',
    '{"tag":"BatchCount","type":"Integer","value":1,"extra":1}',
    '{"type":"Integer","value":1}',
    '{"tag":"BatchCount","type":"Integer","value":null}',
  ];
  for (const j of malformed)
    assert.throws(
      () => jsonToTtlv(j),
      (e) => e instanceof KmipError && e.code === 'invalid_message',
      j,
    );
  const badValues = [
    '{"tag":"BatchCount","type":"Integer","value":1.5}',
    '{"tag":"BatchCount","type":"Integer","value":4294967296}',
    '{"tag":"ObjectType","type":"Enumeration","value":"Banana"}',
    '{"tag":"Data","type":"ByteString","value":"xyz"}',
    '{"tag":"Sensitive","type":"Boolean","value":"maybe"}',
  ];
  for (const j of badValues)
    assert.throws(
      () => jsonToTtlv(j),
      (e) => e instanceof KmipError && e.code === 'invalid_field',
      j,
    );
  let deep = '{"tag":"BatchCount","type":"Integer","value":1}';
  for (let i = 0; i < 40; i++) deep = `{"tag":"RequestMessage","value":[${deep}]}`;
  assert.throws(
    () => jsonToTtlv(deep),
    (e) => e instanceof KmipError && e.code === 'invalid_message',
  );
});

test('property: jsonToTtlv(ttlvToJson(x)) equals x (seeded)', () => {
  fc.assert(
    fc.property(ttlvItemArb, (item) => {
      assert.deepEqual(jsonToTtlv(ttlvToJson(item), { maxDepth: 1000 }), item);
    }),
    { seed: 2026, numRuns: 1000 },
  );
});

test('garbage and mutated JSON only ever throw KmipError (seeded)', () => {
  const sample = '{"tag":"RequestMessage","value":[{"tag":"BatchCount","type":"Integer","value":1}]}';
  const only = (f: () => unknown): void => {
    try {
      f();
    } catch (e) {
      if (!(e instanceof KmipError)) throw e;
    }
  };
  fc.assert(
    fc.property(fc.json(), (s) => only(() => jsonToTtlv(s))),
    { seed: 8, numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.nat({ max: sample.length - 1 }), fc.string({ maxLength: 3 }), (pos, ins) =>
      only(() => jsonToTtlv(sample.slice(0, pos) + ins + sample.slice(pos + 1))),
    ),
    { seed: 9, numRuns: 2000 },
  );
});
