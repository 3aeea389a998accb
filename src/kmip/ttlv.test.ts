import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  asText,
  bigInt,
  bool,
  bytes,
  child,
  children,
  dateTime,
  dateTimeExt,
  decodeTtlv,
  encodeTtlv,
  enumItem,
  getInt,
  int,
  interval,
  long,
  readTtlvHeader,
  reqText,
  struct,
  text,
  ttlvMessageLength,
} from './ttlv.js';
import { KmipError } from './errors.js';
import type { TtlvItem } from './ttlv-types.js';
import { ttlvItemArb } from './test-arbitraries.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/[\s|]/g, ''), 'hex');

// KMIP Specification v1.0 (OASIS Standard, 2010), §9.1.2 "Examples": items with tag 420020.
// Also in v1.1–v1.4 §9.1.2 and v2.0 §9.1.2. The bytes are data from the spec.
const SPEC_EXAMPLES: readonly [string, TtlvItem, string][] = [
  ['Integer 8', int(0x420020, 8), '42 00 20 | 02 | 00 00 00 04 | 00 00 00 08 00 00 00 00'],
  [
    'Long Integer 123456789000000000',
    long(0x420020, 123456789000000000n),
    '42 00 20 | 03 | 00 00 00 08 | 01 B6 9B 4B A5 74 92 00',
  ],
  [
    'Big Integer 1234567890000000000000000000',
    bigInt(0x420020, 1234567890000000000000000000n),
    '42 00 20 | 04 | 00 00 00 10 | 00 00 00 00 03 FD 35 EB 6B C2 DF 46 18 08 00 00',
  ],
  ['Enumeration 255', enumItem(0x420020, 255), '42 00 20 | 05 | 00 00 00 04 | 00 00 00 FF 00 00 00 00'],
  ['Boolean true', bool(0x420020, true), '42 00 20 | 06 | 00 00 00 08 | 00 00 00 00 00 00 00 01'],
  [
    'Text String "Hello World"',
    text(0x420020, 'Hello World'),
    '42 00 20 | 07 | 00 00 00 0B | 48 65 6C 6C 6F 20 57 6F 72 6C 64 00 00 00 00 00',
  ],
  [
    'Byte String 01 02 03',
    bytes(0x420020, new Uint8Array([1, 2, 3])),
    '42 00 20 | 08 | 00 00 00 03 | 01 02 03 00 00 00 00 00',
  ],
  [
    'Date-Time Friday, March 14, 2008, 11:56:40 GMT',
    dateTime(0x420020, 0x47da67f8n),
    '42 00 20 | 09 | 00 00 00 08 | 00 00 00 00 47 DA 67 F8',
  ],
  ['Interval 10 days', interval(0x420020, 864000), '42 00 20 | 0A | 00 00 00 04 | 00 0D 2F 00 00 00 00 00'],
  [
    'Structure with Enumeration 254 and Integer 255',
    struct(0x420020, [enumItem(0x420004, 254), int(0x420005, 255)]),
    '42 00 20 | 01 | 00 00 00 20 | 42 00 04 | 05 | 00 00 00 04 | 00 00 00 FE 00 00 00 00 |' +
      ' 42 00 05 | 02 | 00 00 00 04 | 00 00 00 FF 00 00 00 00',
  ],
];

for (const [name, item, bytesHex] of SPEC_EXAMPLES) {
  test(`KMIP §9.1.2 example: ${name}`, () => {
    assert.equal(encodeTtlv(item).toString('hex'), hex(bytesHex).toString('hex'));
    assert.deepEqual(decodeTtlv(hex(bytesHex)), item);
  });
}

test('the 2008-03-14 11:56:40 GMT example is that instant', () => {
  assert.equal(BigInt(Date.UTC(2008, 2, 14, 11, 56, 40) / 1000), 0x47da67f8n);
});

test('Big Integer: negative values are sign-extended two complement, length a multiple of 8', () => {
  const cases: [bigint, string][] = [
    [-1n, 'ffffffffffffffff'],
    [0n, '0000000000000000'],
    [-(1n << 63n), '8000000000000000'],
    [1n << 63n, '00000000000000008000000000000000'],
    [-(1n << 64n), 'ffffffffffffffff0000000000000000'],
  ];
  for (const [v, valueHex] of cases) {
    const enc = encodeTtlv(bigInt(0x420020, v));
    assert.equal(enc.subarray(8).toString('hex'), valueHex, String(v));
    assert.deepEqual(decodeTtlv(enc), bigInt(0x420020, v));
  }
});

test('Text String length counts UTF-8 bytes', () => {
  const enc = encodeTtlv(text(0x420055, 'Grüße, 鍵'));
  assert.equal(readTtlvHeader(enc).length, Buffer.byteLength('Grüße, 鍵'));
  assert.equal(asText(decodeTtlv(enc)), 'Grüße, 鍵');
});

test('readTtlvHeader and ttlvMessageLength frame a message', () => {
  const enc = encodeTtlv(struct(0x420078, [int(0x42000d, 1)]));
  const h = readTtlvHeader(enc.subarray(0, 8));
  assert.deepEqual(h, { tag: 0x420078, type: 1, length: enc.length - 8 });
  assert.equal(ttlvMessageLength(h), enc.length);
  assert.throws(
    () => ttlvMessageLength({ tag: 0x420078, type: 1, length: 0xfffffff0 }),
    (e) => e instanceof KmipError && e.code === 'message_too_large',
  );
  assert.throws(
    () => readTtlvHeader(enc.subarray(0, 5)),
    (e) => e instanceof KmipError && e.code === 'invalid_message',
  );
});

test('accessors find children and check types', () => {
  const s = struct(0x420078, [int(0x42000d, 2), text(0x420094, 'a'), text(0x420094, 'b')]);
  assert.equal(getInt(s, 0x42000d), 2);
  assert.equal(getInt(s, 0x420001), undefined);
  assert.equal(reqText(s, 0x420094), 'a');
  assert.equal(children(s, 0x420094).length, 2);
  assert.equal(child(s, 0x420001), undefined);
  const wrong = (f: () => unknown): void =>
    assert.throws(
      f,
      (e) => e instanceof KmipError && e.code === 'invalid_field' && /UniqueIdentifier/.test(e.message),
    );
  wrong(() => getInt(s, 0x420094));
  assert.throws(
    () => reqText(s, 0x420001),
    (e) => e instanceof KmipError && e.code === 'invalid_field',
  );
});

test('encoder rejects out-of-range values with invalid_field', () => {
  const bad: TtlvItem[] = [
    int(0x420020, 2 ** 31),
    int(0x420020, 1.5),
    enumItem(0x420020, -1),
    interval(0x420020, 2 ** 32),
    long(0x420020, 1n << 63n),
    dateTimeExt(0x420020, -(1n << 63n) - 1n),
    { tag: 0x1000000, type: 'Integer', value: 1 },
  ];
  for (const item of bad) {
    assert.throws(
      () => encodeTtlv(item),
      (e) => e instanceof KmipError && e.code === 'invalid_field',
      JSON.stringify(item, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
    );
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Malformed input: always a KmipError with a code, never a RangeError.

function rejects(
  buf: Uint8Array,
  code: string,
  limits?: { maxMessageBytes?: number; maxDepth?: number },
): void {
  assert.throws(
    () => decodeTtlv(buf, limits),
    (e) => e instanceof KmipError && e.code === code,
  );
}

const VALID = encodeTtlv(
  struct(0x420078, [
    int(0x42000d, 8),
    text(0x420094, 'Hello World'),
    bytes(0x4200c2, new Uint8Array([1, 2, 3])),
  ]),
);

test('malformed: truncated at every length', () => {
  for (let n = 0; n < VALID.length; n++) rejects(VALID.subarray(0, n), 'invalid_message');
});

test('malformed: trailing bytes, unknown type, bad lengths', () => {
  rejects(Buffer.concat([VALID, Buffer.alloc(8)]), 'invalid_message');
  const unknownType = Buffer.from(VALID);
  unknownType[3] = 0x0c;
  rejects(unknownType, 'invalid_message');
  rejects(hex('42 00 20 | 00 | 00 00 00 00'), 'invalid_message');
  rejects(hex('42 00 20 | 02 | 00 00 00 08 | 00 00 00 08 00 00 00 00'), 'invalid_message');
  rejects(hex('42 00 20 | 03 | 00 00 00 04 | 00 00 00 08 00 00 00 00'), 'invalid_message');
  rejects(hex('42 00 20 | 06 | 00 00 00 04 | 00 00 00 01 00 00 00 00'), 'invalid_message');
  rejects(
    hex('42 00 20 | 04 | 00 00 00 0C | 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00 00'),
    'invalid_message',
  );
  rejects(hex('42 00 20 | 04 | 00 00 00 00'), 'invalid_message');
  rejects(hex('42 00 20 | 01 | 00 00 00 04 | 00 00 00 00'), 'invalid_message');
  // A length that claims far more than is present.
  rejects(hex('42 00 20 | 08 | FF FF FF F0 | 01 02 03 00 00 00 00 00'), 'invalid_message');
  rejects(
    hex('42 00 20 | 01 | 7F FF FF F8 | 42 00 05 | 02 | 00 00 00 04 | 00 00 00 FF 00 00 00 00'),
    'invalid_message',
  );
  // A child whose length runs past its parent's end.
  rejects(
    hex('42 00 20 | 01 | 00 00 00 08 | 42 00 05 | 07 | 00 00 00 08 | 41 41 41 41 41 41 41 41'),
    'invalid_message',
  );
});

test('malformed: Boolean other than 0 or 1', () => {
  rejects(hex('42 00 20 | 06 | 00 00 00 08 | 00 00 00 00 00 00 00 02'), 'invalid_message');
  rejects(hex('42 00 20 | 06 | 00 00 00 08 | 01 00 00 00 00 00 00 01'), 'invalid_message');
});

test('malformed: non-zero padding', () => {
  rejects(hex('42 00 20 | 02 | 00 00 00 04 | 00 00 00 08 00 00 00 01'), 'invalid_message');
  rejects(hex('42 00 20 | 07 | 00 00 00 01 | 41 00 00 00 00 00 00 20'), 'invalid_message');
  rejects(hex('42 00 20 | 08 | 00 00 00 03 | 01 02 03 00 FF 00 00 00'), 'invalid_message');
});

test('malformed: invalid UTF-8 in a Text String', () => {
  rejects(hex('42 00 20 | 07 | 00 00 00 02 | C3 28 00 00 00 00 00 00'), 'invalid_message');
  rejects(hex('42 00 20 | 07 | 00 00 00 03 | ED A0 80 00 00 00 00 00'), 'invalid_message');
});

test('limits: message size and nesting depth', () => {
  rejects(VALID, 'message_too_large', { maxMessageBytes: VALID.length - 1 });
  assert.ok(decodeTtlv(VALID, { maxMessageBytes: VALID.length }));
  let deep: TtlvItem = int(0x420020, 1);
  for (let i = 0; i < 40; i++) deep = struct(0x420020, [deep]);
  const enc = encodeTtlv(deep);
  rejects(enc, 'invalid_message');
  assert.ok(decodeTtlv(enc, { maxDepth: 40 }));
  rejects(enc, 'invalid_message', { maxDepth: 39 });
});

test('garbage never throws anything but a KmipError (seeded)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), (buf) => {
      try {
        decodeTtlv(buf);
      } catch (e) {
        if (!(e instanceof KmipError)) throw e;
      }
    }),
    { seed: 20261130, numRuns: 3000 },
  );
});

test('mutated valid messages never throw anything but a KmipError (seeded)', () => {
  fc.assert(
    fc.property(fc.nat({ max: VALID.length - 1 }), fc.integer({ min: 0, max: 255 }), (pos, byte) => {
      const m = Buffer.from(VALID);
      m[pos] = byte;
      try {
        decodeTtlv(m);
      } catch (e) {
        if (!(e instanceof KmipError)) throw e;
      }
    }),
    { seed: 7, numRuns: 3000 },
  );
});

// ---------------------------------------------------------------------------------------------------------------
// Property: encode/decode round trip.

test('property: decodeTtlv(encodeTtlv(x)) equals x (seeded)', () => {
  fc.assert(
    fc.property(ttlvItemArb, (item) => {
      const enc = encodeTtlv(item);
      assert.equal(enc.length % 8, 0);
      assert.deepEqual(decodeTtlv(enc, { maxDepth: 1000 }), item);
    }),
    { seed: 42, numRuns: 1500 },
  );
});

test('a configured depth above MAX_TTLV_DEPTH is capped: no stack overflow', () => {
  // The bytes of 5000 nested structures around an Integer, built without the (recursive) encoder.
  const levels = 5000;
  const inner = encodeTtlv(int(0x420020, 1));
  const bytes = Buffer.alloc(levels * 8 + inner.length);
  for (let i = 0; i < levels; i++) {
    const at = i * 8;
    bytes.writeUIntBE(0x420020, at, 3);
    bytes[at + 3] = 0x01;
    bytes.writeUInt32BE(bytes.length - at - 8, at + 4);
  }
  inner.copy(bytes, levels * 8);
  rejects(bytes, 'invalid_message', { maxDepth: 1_000_000 });
});
