/**
 * Readers of the known-answer files in src/crypto/testdata (used by the tests only).
 * Compiled to dist/src/crypto/testdata/, which reads the files from the source tree.
 */
import { readFileSync } from 'node:fs';

const DIR = new URL('../../../../src/crypto/testdata/', import.meta.url);

export interface XtsVector {
  readonly name: string;
  readonly direction: 'encrypt' | 'decrypt';
  readonly key: Buffer;
  readonly tweak: Buffer;
  readonly plaintext: Buffer;
  readonly ciphertext: Buffer;
}

function records(text: string): Map<string, string>[] {
  const out: Map<string, string>[] = [];
  let cur = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#')) continue;
    if (line === '' || line.startsWith('[')) {
      if (cur.size > 0) out.push(cur);
      cur = new Map();
      if (line.startsWith('[')) cur.set('section', line.slice(1, -1));
      continue;
    }
    const eq = line.indexOf('=');
    if (eq > 0) cur.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  if (cur.size > 0) out.push(cur);
  return out;
}

function field(r: Map<string, string>, k: string): string {
  const v = r.get(k);
  if (v === undefined) throw new Error(`vector without ${k}`);
  return v;
}

/** The NIST CAVP XTSGenAES256 cases; format 'hex' (i = 128-bit hex tweak) or 'seqno' (DataUnitSeqNumber). */
export function nistXtsVectors(format: 'hex' | 'seqno'): XtsVector[] {
  const file = format === 'hex' ? 'nist-xts-aes256-tweak-128hexstr.rsp' : 'nist-xts-aes256-tweak-dataunitseqno.rsp';
  const out: XtsVector[] = [];
  let direction: 'encrypt' | 'decrypt' = 'encrypt';
  for (const r of records(readFileSync(new URL(file, DIR), 'utf8'))) {
    const section = r.get('section');
    if (section !== undefined) direction = section === 'DECRYPT' ? 'decrypt' : 'encrypt';
    if (!r.has('COUNT')) continue;
    let tweak: Buffer;
    if (format === 'hex') {
      tweak = Buffer.from(field(r, 'i'), 'hex');
    } else {
      // DataUnitSeqNumber is the tweak as a 128-bit little-endian number.
      tweak = Buffer.alloc(16);
      tweak.writeBigUInt64LE(BigInt(field(r, 'DataUnitSeqNumber')), 0);
    }
    out.push({
      name: `${format} ${direction} #${field(r, 'COUNT')} (${field(r, 'DataUnitLen')} bits)`,
      direction,
      key: Buffer.from(field(r, 'Key'), 'hex'),
      tweak,
      plaintext: Buffer.from(field(r, 'PT'), 'hex'),
      ciphertext: Buffer.from(field(r, 'CT'), 'hex'),
    });
  }
  return out;
}

/** IEEE 1619-2007 vectors 1-14. */
export function ieee1619Vectors(): XtsVector[] {
  const pattern = Buffer.from([...Array(512).keys()].map((i) => i & 0xff));
  const out: XtsVector[] = [];
  let prev: Buffer | undefined;
  for (const r of records(readFileSync(new URL('ieee1619-xts.txt', DIR), 'utf8'))) {
    if (!r.has('Vector')) continue;
    const inHex = field(r, 'In');
    const plaintext = inHex === 'PATTERN' ? pattern : inHex === 'PREV' ? prev : Buffer.from(inHex, 'hex');
    if (plaintext === undefined) throw new Error('PREV without a previous vector');
    const ciphertext = Buffer.from(field(r, 'Out'), 'hex');
    out.push({
      name: `IEEE 1619 vector ${field(r, 'Vector')}`,
      direction: 'encrypt',
      key: Buffer.from(field(r, 'Key'), 'hex'),
      tweak: Buffer.from(field(r, 'Tweak'), 'hex'),
      plaintext,
      ciphertext,
    });
    prev = ciphertext;
  }
  return out;
}
