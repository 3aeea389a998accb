/**
 * Deterministic, structure-aware mutation of valid TTLV messages for fuzzing. A seeded PRNG
 * (mulberry32) picks a seed message and one to three mutations; the item layout of the seed is
 * known, so mutations hit real headers: lengths that claim more than the buffer or the limit, wrong
 * type bytes, unknown tags, items swapped (fields in the wrong order), duplicated, dropped,
 * truncated messages, garbage, and plain bit flips.
 */

/** mulberry32: a small, fast, well-distributed 32-bit PRNG; the same seed gives the same run. */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

/** Where one item sits in an encoded message. */
interface ItemSpan {
  readonly offset: number;
  /** Header + value + padding. */
  readonly size: number;
  readonly structure: boolean;
}

/** The spans of every item of a well-formed message (depth-first, the message first). */
export function itemSpans(msg: Uint8Array): ItemSpan[] {
  const buf = Buffer.from(msg.buffer, msg.byteOffset, msg.byteLength);
  const out: ItemSpan[] = [];
  const walk = (start: number, end: number): void => {
    let p = start;
    while (p + 8 <= end) {
      const type = buf[p + 3]!;
      const len = buf.readUInt32BE(p + 4);
      const padded = type === 0x01 ? len : Math.ceil(len / 8) * 8;
      const size = 8 + padded;
      if (p + size > end) return;
      out.push({ offset: p, size, structure: type === 0x01 });
      if (type === 0x01) walk(p + 8, p + size);
      p += size;
    }
  };
  walk(0, buf.length);
  return out;
}

export type MutationName =
  | 'bitflip'
  | 'byte'
  | 'truncate'
  | 'garbage-tail'
  | 'length-huge'
  | 'length-off'
  | 'type-byte'
  | 'unknown-tag'
  | 'swap-items'
  | 'duplicate-item'
  | 'drop-item'
  | 'splice'
  | 'garbage';

const MUTATIONS: readonly MutationName[] = [
  'bitflip',
  'byte',
  'truncate',
  'garbage-tail',
  'length-huge',
  'length-off',
  'type-byte',
  'unknown-tag',
  'swap-items',
  'duplicate-item',
  'drop-item',
  'splice',
  'garbage',
];

function mutateOnce(rng: Prng, input: Buffer, seeds: readonly Buffer[], name: MutationName): Buffer {
  const b = Buffer.from(input);
  const spans = itemSpans(b);
  const span = spans.length > 0 ? rng.pick(spans) : undefined;
  switch (name) {
    case 'bitflip': {
      if (b.length === 0) return b;
      const i = rng.int(b.length);
      b[i] = b[i]! ^ (1 << rng.int(8));
      return b;
    }
    case 'byte': {
      if (b.length === 0) return b;
      b[rng.int(b.length)] = rng.pick([0x00, 0xff, 0x7f, 0x80, 0x01, rng.int(256)]);
      return b;
    }
    case 'truncate':
      return b.subarray(0, rng.int(b.length));
    case 'garbage-tail':
      return Buffer.concat([b, rng.bytes(1 + rng.int(32))]);
    case 'length-huge': {
      if (!span) return b;
      b.writeUInt32BE(rng.pick([0xffffffff, 0x7fffffff, 0x00100001, 0x01000000, b.length * 4]), span.offset + 4);
      return b;
    }
    case 'length-off': {
      if (!span) return b;
      const len = b.readUInt32BE(span.offset + 4);
      b.writeUInt32BE(Math.max(0, len + rng.pick([-9, -8, -1, 1, 7, 8, 16])) >>> 0, span.offset + 4);
      return b;
    }
    case 'type-byte': {
      if (!span) return b;
      b[span.offset + 3] = rng.pick([0x00, 0x0c, 0xff, 1 + rng.int(11)]);
      return b;
    }
    case 'unknown-tag': {
      if (!span) return b;
      const tag = rng.pick([0x42ffff, 0x540001, 0x000000, 0x43aaaa, 0x420000 + rng.int(0x200)]);
      b.writeUIntBE(tag, span.offset, 3);
      return b;
    }
    case 'swap-items': {
      if (spans.length < 3) return b;
      const s1 = rng.pick(spans.slice(1));
      const siblings = spans.filter((s) => s.offset > s1.offset + s1.size - 1 || s.offset + s.size <= s1.offset);
      if (siblings.length === 0) return b;
      const s2 = rng.pick(siblings);
      const [first, second] = s1.offset < s2.offset ? [s1, s2] : [s2, s1];
      if (first.offset + first.size > second.offset) return b;
      return Buffer.concat([
        b.subarray(0, first.offset),
        b.subarray(second.offset, second.offset + second.size),
        b.subarray(first.offset + first.size, second.offset),
        b.subarray(first.offset, first.offset + first.size),
        b.subarray(second.offset + second.size),
      ]);
    }
    case 'duplicate-item': {
      if (!span) return b;
      const item = b.subarray(span.offset, span.offset + span.size);
      return Buffer.concat([b.subarray(0, span.offset + span.size), item, b.subarray(span.offset + span.size)]);
    }
    case 'drop-item': {
      if (!span || span.offset === 0) return b;
      return Buffer.concat([b.subarray(0, span.offset), b.subarray(span.offset + span.size)]);
    }
    case 'splice': {
      const other = rng.pick(seeds);
      const os = itemSpans(other);
      if (!span || os.length < 2 || span.offset === 0) return b;
      const o = rng.pick(os.slice(1));
      return Buffer.concat([b.subarray(0, span.offset), other.subarray(o.offset, o.offset + o.size), b.subarray(span.offset + span.size)]);
    }
    case 'garbage':
      return rng.bytes(rng.int(64));
  }
}

export interface Mutant {
  readonly bytes: Buffer;
  readonly seedIndex: number;
  readonly mutations: readonly MutationName[];
}

/** One mutant: a seed message with one to three mutations. */
export function mutate(rng: Prng, seeds: readonly Buffer[]): Mutant {
  const seedIndex = rng.int(seeds.length);
  let b = seeds[seedIndex]!;
  const mutations: MutationName[] = [];
  const n = 1 + rng.int(3);
  for (let i = 0; i < n; i++) {
    const m = rng.pick(MUTATIONS);
    mutations.push(m);
    b = mutateOnce(rng, b, seeds, m);
  }
  return { bytes: b, seedIndex, mutations };
}
