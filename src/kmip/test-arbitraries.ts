/** fast-check arbitraries for TTLV items, shared by the codec and encoding tests (test-only). */
import fc from 'fast-check';
import {
  bigInt,
  bool,
  bytes,
  dateTime,
  dateTimeExt,
  enumItem,
  int,
  interval,
  long,
  struct,
  text,
} from './ttlv.js';
import type { TtlvItem } from './ttlv-types.js';

const tagArb = fc.integer({ min: 0x420001, max: 0x420170 });

/** Any TTLV item; tags are drawn from a range of standard tags (0x420001–0x420170). */
export const ttlvItemArb: fc.Arbitrary<TtlvItem> = fc.letrec<{ item: TtlvItem }>((tie) => ({
  item: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.tuple(tagArb, fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })).map(([t, v]) => int(t, v)),
    fc.tuple(tagArb, fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n })).map(([t, v]) => long(t, v)),
    fc.tuple(tagArb, fc.bigInt({ min: -(1n << 300n), max: 1n << 300n })).map(([t, v]) => bigInt(t, v)),
    fc.tuple(tagArb, fc.integer({ min: 0, max: 2 ** 32 - 1 })).map(([t, v]) => enumItem(t, v)),
    fc.tuple(tagArb, fc.boolean()).map(([t, v]) => bool(t, v)),
    fc.tuple(tagArb, fc.string({ unit: 'binary', maxLength: 40 })).map(([t, v]) => text(t, v)),
    fc.tuple(tagArb, fc.uint8Array({ maxLength: 40 })).map(([t, v]) => bytes(t, v)),
    fc.tuple(tagArb, fc.bigInt({ min: 0n, max: (1n << 40n) - 1n })).map(([t, v]) => dateTime(t, v)),
    fc.tuple(tagArb, fc.integer({ min: 0, max: 2 ** 32 - 1 })).map(([t, v]) => interval(t, v)),
    fc
      .tuple(tagArb, fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }))
      .map(([t, v]) => dateTimeExt(t, v)),
    fc.tuple(tagArb, fc.array(tie('item'), { maxLength: 5 })).map(([t, v]) => struct(t, v)),
  ),
})).item;
