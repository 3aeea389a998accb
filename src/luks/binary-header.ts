/**
 * One copy of the LUKS2 metadata: the 4096-byte binary header followed by the JSON area, hdr_size
 * bytes in all, protected by a checksum over the whole copy with the checksum field zeroed.
 */
import { createHash } from 'node:crypto';
import { LuksError } from './errors.js';
import {
  BINARY_HEADER_SIZE,
  FIELD,
  LUKS2_VERSION,
  MAGIC_PRIMARY,
  MAGIC_SECONDARY,
  VALID_HEADER_SIZES,
} from './layout.js';

export type HeaderCopy = 'primary' | 'secondary';

/** The binary header's fields. */
export interface BinaryHeader {
  readonly copy: HeaderCopy;
  readonly hdrSize: number;
  readonly seqid: number;
  readonly label: string;
  readonly checksumAlg: string;
  readonly salt: Buffer;
  readonly uuid: string;
  readonly subsystem: string;
  readonly hdrOffset: number;
}

/** Checksum algorithms we verify; the field holds up to 64 bytes. */
const CHECKSUM_ALGS: Readonly<Record<string, number>> = { sha1: 20, sha256: 32, sha512: 64 };

function magicOf(copy: HeaderCopy): readonly number[] {
  return copy === 'primary' ? MAGIC_PRIMARY : MAGIC_SECONDARY;
}

function field(buf: Uint8Array, f: { at: number; len: number }): Buffer {
  return Buffer.from(buf.buffer, buf.byteOffset + f.at, f.len);
}

function readString(buf: Uint8Array, f: { at: number; len: number }, name: string): string {
  const raw = field(buf, f);
  const nul = raw.indexOf(0);
  if (nul < 0) throw new LuksError('bad_header', `the header's ${name} is not NUL-terminated`);
  if (raw.subarray(nul).some((b) => b !== 0)) {
    throw new LuksError('bad_header', `the header's ${name} has bytes after its terminator`);
  }
  const text = raw.subarray(0, nul).toString('utf8');
  if (!/^[\x20-\x7e]*$/.test(text))
    throw new LuksError('bad_header', `the header's ${name} is not printable ASCII`);
  return text;
}

function writeString(buf: Buffer, f: { at: number; len: number }, text: string, name: string): void {
  const bytes = Buffer.from(text, 'utf8');
  if (!/^[\x20-\x7e]*$/.test(text) || bytes.length >= f.len) {
    throw new LuksError('bad_header', `${name} must be printable ASCII of at most ${f.len - 1} bytes`);
  }
  bytes.copy(buf, f.at);
}

function readU64(buf: Uint8Array, f: { at: number }, name: string): number {
  const v = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).readBigUInt64BE(f.at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER))
    throw new LuksError('bad_header', `the header's ${name} is too large`);
  return Number(v);
}

/** Which copy the first bytes announce, or null when neither magic matches. */
export function detectCopy(buf: Uint8Array): HeaderCopy | null {
  if (buf.length < FIELD.magic.len) return null;
  for (const copy of ['primary', 'secondary'] as const) {
    if (magicOf(copy).every((b, i) => buf[i] === b)) return copy;
  }
  return null;
}

function checksumOf(alg: string, area: Uint8Array): Buffer {
  const h = createHash(alg);
  h.update(area.subarray(0, FIELD.checksum.at));
  h.update(Buffer.alloc(FIELD.checksum.len));
  h.update(area.subarray(FIELD.checksum.at + FIELD.checksum.len));
  return h.digest();
}

/**
 * Parses the 4096-byte binary header at the start of buf (no checksum check yet: the checksum
 * covers hdr_size bytes, which the caller reads once it knows hdr_size).
 */
export function decodeBinaryHeader(buf: Uint8Array, expected: HeaderCopy, offset: number): BinaryHeader {
  const copy = detectCopy(buf);
  if (copy !== expected)
    throw new LuksError('bad_magic', `no LUKS2 ${expected} header magic at offset ${offset}`);
  if (buf.length < BINARY_HEADER_SIZE)
    throw new LuksError('truncated', 'the image is shorter than a LUKS2 header');
  const view = Buffer.from(buf.buffer, buf.byteOffset, BINARY_HEADER_SIZE);
  const version = view.readUInt16BE(FIELD.version.at);
  if (version !== LUKS2_VERSION) {
    throw new LuksError(
      version === 1 ? 'not_supported' : 'bad_header',
      `LUKS version ${version} is not LUKS2`,
    );
  }
  const hdrSize = readU64(buf, FIELD.hdrSize, 'hdr_size');
  if (!VALID_HEADER_SIZES.includes(hdrSize)) {
    throw new LuksError(
      'bad_header',
      `hdr_size ${hdrSize} is not one of the sizes LUKS2 allows (16 KiB to 4 MiB)`,
    );
  }
  const hdrOffset = readU64(buf, FIELD.hdrOffset, 'hdr_offset');
  if (hdrOffset !== offset) {
    throw new LuksError(
      'bad_header',
      `the ${copy} header says it is at offset ${hdrOffset}, found at ${offset}`,
    );
  }
  if (copy === 'secondary' && hdrOffset !== hdrSize) {
    throw new LuksError('bad_header', `the secondary header must follow the primary (offset ${hdrSize})`);
  }
  const checksumAlg = readString(buf, FIELD.checksumAlg, 'checksum_alg');
  if (CHECKSUM_ALGS[checksumAlg] === undefined) {
    throw new LuksError('not_supported', `header checksum algorithm "${checksumAlg}" is not supported`);
  }
  return {
    copy,
    hdrSize,
    seqid: readU64(buf, FIELD.seqid, 'seqid'),
    label: readString(buf, FIELD.label, 'label'),
    checksumAlg,
    salt: Buffer.from(field(buf, FIELD.salt)),
    uuid: readString(buf, FIELD.uuid, 'uuid'),
    subsystem: readString(buf, FIELD.subsystem, 'subsystem'),
    hdrOffset,
  };
}

/** Verifies the checksum over a whole copy (hdr_size bytes). */
export function verifyChecksum(hdr: BinaryHeader, area: Uint8Array): void {
  if (area.length < hdr.hdrSize)
    throw new LuksError('truncated', `the image ends inside the ${hdr.copy} header`);
  const copy = area.subarray(0, hdr.hdrSize);
  const want = checksumOf(hdr.checksumAlg, copy);
  const stored = field(copy, FIELD.checksum);
  const len = CHECKSUM_ALGS[hdr.checksumAlg] ?? want.length;
  if (!want.subarray(0, len).equals(stored.subarray(0, len)) || stored.subarray(len).some((b) => b !== 0)) {
    throw new LuksError('bad_checksum', `the ${hdr.copy} header's checksum does not match`);
  }
}

/** The JSON text of a verified copy: the JSON area up to its first NUL. */
export function jsonText(hdr: BinaryHeader, area: Uint8Array): string {
  const json = Buffer.from(
    area.buffer,
    area.byteOffset + BINARY_HEADER_SIZE,
    hdr.hdrSize - BINARY_HEADER_SIZE,
  );
  const nul = json.indexOf(0);
  if (nul < 0) throw new LuksError('json_too_large', 'the JSON area has no terminating NUL');
  if (json.subarray(nul).some((b) => b !== 0))
    throw new LuksError('json_invalid', 'the JSON area has bytes after its end');
  return json.subarray(0, nul).toString('utf8');
}

/** Encodes one copy: binary header, JSON text padded with NULs to hdr_size, and its checksum. */
export function encodeCopy(hdr: Omit<BinaryHeader, 'hdrOffset'>, json: string): Buffer {
  const area = Buffer.alloc(hdr.hdrSize);
  const text = Buffer.from(json, 'utf8');
  if (text.length >= hdr.hdrSize - BINARY_HEADER_SIZE) {
    throw new LuksError(
      'json_too_large',
      `the JSON metadata (${text.length} bytes) does not fit the JSON area`,
    );
  }
  text.copy(area, BINARY_HEADER_SIZE);
  Buffer.from(magicOf(hdr.copy)).copy(area, FIELD.magic.at);
  area.writeUInt16BE(LUKS2_VERSION, FIELD.version.at);
  area.writeBigUInt64BE(BigInt(hdr.hdrSize), FIELD.hdrSize.at);
  area.writeBigUInt64BE(BigInt(hdr.seqid), FIELD.seqid.at);
  writeString(area, FIELD.label, hdr.label, 'label');
  writeString(area, FIELD.checksumAlg, hdr.checksumAlg, 'checksum_alg');
  if (hdr.salt.length !== FIELD.salt.len)
    throw new LuksError('bad_header', 'the header salt must be 64 bytes');
  hdr.salt.copy(area, FIELD.salt.at);
  writeString(area, FIELD.uuid, hdr.uuid, 'uuid');
  writeString(area, FIELD.subsystem, hdr.subsystem, 'subsystem');
  const offset = hdr.copy === 'primary' ? 0 : hdr.hdrSize;
  area.writeBigUInt64BE(BigInt(offset), FIELD.hdrOffset.at);
  checksumOf(hdr.checksumAlg, area).copy(area, FIELD.checksum.at);
  return area;
}
