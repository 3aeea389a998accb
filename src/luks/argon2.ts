/**
 * Argon2i and Argon2id, version 0x13 (RFC 9106), without secret or associated data: what LUKS2
 * keyslots with an argon2 kdf use (cryptsetup: password = passphrase, salt = kdf.salt, t = time,
 * m = memory in KiB, p = cpus, tag length = the area's key size). Written from RFC 9106; checked
 * against libargon2 (via Python ctypes) and cryptsetup in test/luks.
 *
 * Pure JavaScript, one thread: about as fast as memory bandwidth allows in JS, several times
 * slower than libargon2. 64-bit words are pairs of 32-bit halves (lo at 2i, hi at 2i+1).
 */
import { blake2b } from './blake2b.js';

const BLOCK_WORDS = 256; // 1024 bytes as 32-bit halves
const SYNC_POINTS = 4;
const VERSION = 0x13;

export type Argon2Type = 'argon2i' | 'argon2id';
const TYPE_ID: Readonly<Record<Argon2Type, number>> = { argon2i: 1, argon2id: 2 };

export interface Argon2Params {
  readonly type: Argon2Type;
  /** Passes over memory (t). */
  readonly time: number;
  /** Memory in KiB (m), at least 8 * parallelism. */
  readonly memory: number;
  /** Lanes (p). */
  readonly parallelism: number;
  readonly tagLength: number;
}

/** The high 32 bits of a * b for 32-bit a and b, exactly. */
function mulHi(a: number, b: number): number {
  const al = a & 0xffff;
  const ah = a >>> 16;
  const bl = b & 0xffff;
  const bh = b >>> 16;
  const lh = al * bh;
  const hl = ah * bl;
  const mid = ((al * bl) >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (ah * bh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) >>> 0;
}

/**
 * Argon2's GB on the 64-bit words at word offsets a, b, c, d (lo at x, hi at x + 1), with BlaMka
 * (x + y + 2 * lo32(x) * lo32(y) mod 2^64) written out in place for speed. All halves are kept
 * unsigned (>>> 0) so the carry tests hold.
 */
function gb(v: Uint32Array, a: number, b: number, c: number, d: number): void {
  let al = v[a]!,
    ah = v[a + 1]!,
    bl = v[b]!,
    bh = v[b + 1]!;
  let cl = v[c]!,
    ch = v[c + 1]!,
    dl = v[d]!,
    dh = v[d + 1]!;
  let pl: number, ph: number, lo: number, lo2: number, tl: number, th: number;
  pl = Math.imul(al, bl) >>> 0;
  ph = mulHi(al, bl);
  lo = al + bl;
  lo2 = (lo >>> 0) + ((pl << 1) >>> 0);
  ah = (ah + bh + (lo > 0xffffffff ? 1 : 0) + ((ph << 1) | (pl >>> 31)) + (lo2 > 0xffffffff ? 1 : 0)) >>> 0;
  al = lo2 >>> 0;
  tl = (dl ^ al) >>> 0; // d = rotr(d ^ a, 32)
  dl = (dh ^ ah) >>> 0;
  dh = tl;
  pl = Math.imul(cl, dl) >>> 0;
  ph = mulHi(cl, dl);
  lo = cl + dl;
  lo2 = (lo >>> 0) + ((pl << 1) >>> 0);
  ch = (ch + dh + (lo > 0xffffffff ? 1 : 0) + ((ph << 1) | (pl >>> 31)) + (lo2 > 0xffffffff ? 1 : 0)) >>> 0;
  cl = lo2 >>> 0;
  tl = bl ^ cl; // b = rotr(b ^ c, 24)
  th = bh ^ ch;
  bl = ((tl >>> 24) | (th << 8)) >>> 0;
  bh = ((th >>> 24) | (tl << 8)) >>> 0;
  pl = Math.imul(al, bl) >>> 0;
  ph = mulHi(al, bl);
  lo = al + bl;
  lo2 = (lo >>> 0) + ((pl << 1) >>> 0);
  ah = (ah + bh + (lo > 0xffffffff ? 1 : 0) + ((ph << 1) | (pl >>> 31)) + (lo2 > 0xffffffff ? 1 : 0)) >>> 0;
  al = lo2 >>> 0;
  tl = dl ^ al; // d = rotr(d ^ a, 16)
  th = dh ^ ah;
  dl = ((tl >>> 16) | (th << 16)) >>> 0;
  dh = ((th >>> 16) | (tl << 16)) >>> 0;
  pl = Math.imul(cl, dl) >>> 0;
  ph = mulHi(cl, dl);
  lo = cl + dl;
  lo2 = (lo >>> 0) + ((pl << 1) >>> 0);
  ch = (ch + dh + (lo > 0xffffffff ? 1 : 0) + ((ph << 1) | (pl >>> 31)) + (lo2 > 0xffffffff ? 1 : 0)) >>> 0;
  cl = lo2 >>> 0;
  tl = bl ^ cl; // b = rotr(b ^ c, 63) = rotl(b ^ c, 1)
  th = bh ^ ch;
  bl = ((tl << 1) | (th >>> 31)) >>> 0;
  bh = ((th << 1) | (tl >>> 31)) >>> 0;
  v[a] = al;
  v[a + 1] = ah;
  v[b] = bl;
  v[b + 1] = bh;
  v[c] = cl;
  v[c + 1] = ch;
  v[d] = dl;
  v[d + 1] = dh;
}

/** The permutation P over 16 64-bit words at the given word offsets (each offset is a lo index). */
function permute(v: Uint32Array, w: readonly number[]): void {
  gb(v, w[0]!, w[4]!, w[8]!, w[12]!);
  gb(v, w[1]!, w[5]!, w[9]!, w[13]!);
  gb(v, w[2]!, w[6]!, w[10]!, w[14]!);
  gb(v, w[3]!, w[7]!, w[11]!, w[15]!);
  gb(v, w[0]!, w[5]!, w[10]!, w[15]!);
  gb(v, w[1]!, w[6]!, w[11]!, w[12]!);
  gb(v, w[2]!, w[7]!, w[8]!, w[13]!);
  gb(v, w[3]!, w[4]!, w[9]!, w[14]!);
}

// Word offsets of the 8 rows and the 8 columns of the block seen as 8x8 16-byte registers.
const ROWS = Array.from({ length: 8 }, (_, i) => Array.from({ length: 16 }, (_, k) => 32 * i + 2 * k));
const COLS = Array.from({ length: 8 }, (_, j) =>
  Array.from({ length: 16 }, (_, k) => 32 * (k >> 1) + 4 * j + 2 * (k & 1)),
);

/** out = G(x, y), or out ^= G(x, y) with xorInto (passes after the first, version 0x13). */
function compress(
  mem: Uint32Array,
  out: number,
  x: Uint32Array,
  xAt: number,
  y: Uint32Array,
  yAt: number,
  xorInto: boolean,
  r: Uint32Array,
  q: Uint32Array,
): void {
  for (let i = 0; i < BLOCK_WORDS; i++) r[i] = x[xAt + i]! ^ y[yAt + i]!;
  q.set(r);
  for (const row of ROWS) permute(q, row);
  for (const col of COLS) permute(q, col);
  if (xorInto) for (let i = 0; i < BLOCK_WORDS; i++) mem[out + i] = mem[out + i]! ^ q[i]! ^ r[i]!;
  else for (let i = 0; i < BLOCK_WORDS; i++) mem[out + i] = q[i]! ^ r[i]!;
}

function le32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

/** H'(input) with an outLen-byte output (RFC 9106 §3.3). */
function hPrime(outLen: number, ...input: Uint8Array[]): Buffer {
  if (outLen <= 64) return blake2b(outLen, le32(outLen), ...input);
  const r = Math.ceil(outLen / 32) - 2;
  const out = Buffer.alloc(outLen);
  let v = blake2b(64, le32(outLen), ...input);
  v.copy(out, 0, 0, 32);
  for (let i = 1; i < r; i++) {
    v = blake2b(64, v);
    v.copy(out, 32 * i, 0, 32);
  }
  blake2b(outLen - 32 * r, v).copy(out, 32 * r);
  return out;
}

export function checkArgon2Params(p: Argon2Params): string | null {
  const ok = (n: number, min: number, max: number): boolean =>
    Number.isSafeInteger(n) && n >= min && n <= max;
  if (!ok(p.parallelism, 1, 0xffffff)) return 'parallelism must be 1 to 2^24-1';
  if (!ok(p.time, 1, 0xffffffff)) return 'time must be at least 1';
  if (!ok(p.memory, 8 * p.parallelism, 0xffffffff)) return 'memory must be at least 8 KiB per lane';
  if (!ok(p.tagLength, 4, 0xffffffff)) return 'the tag must be at least 4 bytes';
  return null;
}

/** The Argon2 tag of password and salt. The caller zeroes the result. */
export function argon2(params: Argon2Params, password: Uint8Array, salt: Uint8Array): Buffer {
  const problem = checkArgon2Params(params);
  if (problem !== null) throw new RangeError(`argon2: ${problem}`);
  const { time, parallelism: lanes, tagLength } = params;
  const type = TYPE_ID[params.type];
  const segment = Math.floor(params.memory / (SYNC_POINTS * lanes));
  const laneLength = segment * SYNC_POINTS;
  const blocks = laneLength * lanes;
  const mem = new Uint32Array(blocks * BLOCK_WORDS);
  const r = new Uint32Array(BLOCK_WORDS);
  const q = new Uint32Array(BLOCK_WORDS);

  const h0 = blake2b(
    64,
    le32(lanes),
    le32(tagLength),
    le32(params.memory),
    le32(time),
    le32(VERSION),
    le32(type),
    le32(password.length),
    password,
    le32(salt.length),
    salt,
    le32(0),
    le32(0),
  );
  for (let l = 0; l < lanes; l++) {
    for (let i = 0; i < 2; i++) {
      const b = hPrime(1024, h0, le32(i), le32(l));
      const at = (l * laneLength + i) * BLOCK_WORDS;
      for (let w = 0; w < BLOCK_WORDS; w++) mem[at + w] = b.readUInt32LE(4 * w);
      b.fill(0);
    }
  }
  h0.fill(0);

  const zero = new Uint32Array(BLOCK_WORDS);
  const input = new Uint32Array(BLOCK_WORDS);
  const address = new Uint32Array(BLOCK_WORDS);
  for (let pass = 0; pass < time; pass++) {
    for (let slice = 0; slice < SYNC_POINTS; slice++) {
      for (let lane = 0; lane < lanes; lane++) {
        const independent = type === 1 || (pass === 0 && slice < SYNC_POINTS / 2);
        if (independent) {
          input.fill(0);
          input[0] = pass;
          input[2] = lane;
          input[4] = slice;
          input[6] = blocks;
          input[8] = time;
          input[10] = type;
        }
        const nextAddresses = (): void => {
          input[12] = input[12]! + 1;
          compress(address, 0, zero, 0, input, 0, false, r, q);
          compress(address, 0, zero, 0, address, 0, false, r, q);
        };
        let start = 0;
        if (pass === 0 && slice === 0) {
          start = 2;
          if (independent) nextAddresses();
        }
        for (let i = start; i < segment; i++) {
          const cur = lane * laneLength + slice * segment + i;
          const prev = cur % laneLength === 0 ? cur + laneLength - 1 : cur - 1;
          let j1: number;
          let j2: number;
          if (independent) {
            if (i % 128 === 0) nextAddresses();
            j1 = address[2 * (i % 128)]!;
            j2 = address[2 * (i % 128) + 1]!;
          } else {
            j1 = mem[prev * BLOCK_WORDS]!;
            j2 = mem[prev * BLOCK_WORDS + 1]!;
          }
          const refLane = pass === 0 && slice === 0 ? lane : j2 % lanes;
          const same = refLane === lane;
          let area: number;
          if (pass === 0) {
            area = slice === 0 ? i - 1 : same ? slice * segment + i - 1 : slice * segment - (i === 0 ? 1 : 0);
          } else {
            area = same ? laneLength - segment + i - 1 : laneLength - segment - (i === 0 ? 1 : 0);
          }
          const x = mulHi(j1, j1);
          const rel = area - 1 - mulHi(area, x);
          const startPos = pass === 0 || slice === SYNC_POINTS - 1 ? 0 : (slice + 1) * segment;
          const ref = refLane * laneLength + ((startPos + rel) % laneLength);
          compress(mem, cur * BLOCK_WORDS, mem, prev * BLOCK_WORDS, mem, ref * BLOCK_WORDS, pass > 0, r, q);
        }
      }
    }
  }

  const final = new Uint32Array(BLOCK_WORDS);
  for (let l = 0; l < lanes; l++) {
    const at = (l * laneLength + laneLength - 1) * BLOCK_WORDS;
    for (let w = 0; w < BLOCK_WORDS; w++) final[w] = final[w]! ^ mem[at + w]!;
  }
  const bytes = Buffer.alloc(1024);
  for (let w = 0; w < BLOCK_WORDS; w++) bytes.writeUInt32LE(final[w]!, 4 * w);
  const tag = hPrime(tagLength, bytes);
  for (const a of [mem, r, q, address, final, bytes]) a.fill(0);
  return tag;
}
