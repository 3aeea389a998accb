/**
 * The anti-forensic information splitter of LUKS1, which LUKS2 keyslots use as "af": luks1
 * (Fruhwirth, "New Methods in Hard Disk Encryption", §2.4; LUKS1 On-Disk Format §2.4). A key of n
 * bytes becomes `stripes` blocks of n bytes; all are needed to recover it, so wiping any part of a
 * keyslot area destroys the key.
 *
 * diffuse(d): d is hashed in digest-sized pieces; piece i becomes H(be32(i) || piece), truncated
 * to the piece's length. split: d = 0; for each random stripe s_k (k < stripes-1),
 * d = diffuse(d xor s_k); the last stripe is d xor key. merge runs the same chain.
 */
import { createHash, randomFillSync } from 'node:crypto';

function hashSize(hash: string): number {
  return createHash(hash).digest().length;
}

function diffuse(d: Buffer, hash: string, digestSize: number): void {
  const index = Buffer.alloc(4);
  for (let i = 0, at = 0; at < d.length; i++, at += digestSize) {
    const piece = d.subarray(at, Math.min(at + digestSize, d.length));
    index.writeUInt32BE(i);
    const h = createHash(hash).update(index).update(piece).digest();
    h.copy(piece, 0, 0, piece.length);
    h.fill(0);
  }
}

function xorInto(d: Buffer, s: Uint8Array): void {
  for (let i = 0; i < d.length; i++) d[i] = (d[i] as number) ^ (s[i] as number);
}

/** Splits key into stripes * key.length bytes. */
export function afSplit(key: Uint8Array, stripes: number, hash: string): Buffer {
  const n = key.length;
  const out = Buffer.alloc(n * stripes);
  const d = Buffer.alloc(n);
  const digestSize = hashSize(hash);
  randomFillSync(out, 0, n * (stripes - 1));
  for (let k = 0; k < stripes - 1; k++) {
    xorInto(d, out.subarray(k * n, (k + 1) * n));
    diffuse(d, hash, digestSize);
  }
  const last = out.subarray((stripes - 1) * n);
  key.forEach((b, i) => (last[i] = b ^ (d[i] as number)));
  d.fill(0);
  return out;
}

/** Recovers a key of keySize bytes from split material. The caller zeroes the result. */
export function afMerge(material: Uint8Array, keySize: number, stripes: number, hash: string): Buffer {
  const d = Buffer.alloc(keySize);
  const digestSize = hashSize(hash);
  for (let k = 0; k < stripes - 1; k++) {
    xorInto(d, material.subarray(k * keySize, (k + 1) * keySize));
    diffuse(d, hash, digestSize);
  }
  xorInto(d, material.subarray((stripes - 1) * keySize, stripes * keySize));
  return d;
}
