/**
 * The sealed-file format (docs/formats.md, "Sealed files"): a plaintext header, then chunks of
 * AES-256-GCM in the STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár 2015).
 *
 *   header  = "CVSEALED" | version u8 (1) | suite u8 (1) | chunk-size log2 u8 | reserved u8 (0)
 *             | salt (16) | nonce prefix (7) | purpose length u8 | purpose (ASCII)
 *             | file-id length u16 BE | file id (UTF-8)
 *   chunk i = AES-256-GCM(fileKey, nonce = prefix | i as u32 BE | last-flag u8, aad = header)
 *             = ciphertext (chunk size bytes; the last chunk 0..chunk size) | tag (16)
 *   fileKey = HKDF-SHA256(ikm = the 32-byte key, salt, info = label | purpose | file id)
 *
 * Every chunk is bound to the whole header, its index and whether it is the last, under a key
 * unique to the file, so truncation, reordering, splicing across files, a changed header and any
 * bit flip are detected.
 */
import { hkdfSync } from 'node:crypto';
import { CryptoError, SEALED_INVALID_MESSAGE } from './errors.js';
import { GCM_TAG_BYTES } from './aes-gcm.js';
import { SecretBytes } from './secret-bytes.js';

export const SEALED_MAGIC = Buffer.from('CVSEALED', 'ascii');
export const SEALED_VERSION = 1;
/** HKDF-SHA256 key derivation, AES-256-GCM STREAM chunks. */
export const SEALED_SUITE = 1;
export const SEALED_DEFAULT_CHUNK_LOG2 = 16;
export const SEALED_MIN_CHUNK_LOG2 = 12;
export const SEALED_MAX_CHUNK_LOG2 = 24;
export const SEALED_SALT_BYTES = 16;
export const SEALED_PREFIX_BYTES = 7;
export const SEALED_TAG_BYTES = GCM_TAG_BYTES;
export const SEALED_MAX_CHUNKS = 2 ** 32;
const FIXED_BYTES = 8 + 4 + SEALED_SALT_BYTES + SEALED_PREFIX_BYTES;
const PURPOSE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const MAX_FILE_ID = 1024;
/** The largest header: fixed part, purpose, file id. */
export const SEALED_MAX_HEADER = FIXED_BYTES + 1 + 64 + 2 + MAX_FILE_ID;
const KDF_LABEL = 'cryptvisor sealed file v1';

/** What a sealed file is for and which file it is; both are bound into its key. */
export interface SealedIdentity {
  /** A short label of the kind of file: `vm-suspend`, `vm-snapshot-memory`, `host-crash-dump`, ... */
  readonly purpose: string;
  /** The file's identity within its purpose, e.g. `<vmUuid>/<snapshotId>`. */
  readonly fileId: string;
}

export interface SealedHeader extends SealedIdentity {
  readonly chunkSize: number;
  readonly salt: Buffer;
  readonly noncePrefix: Buffer;
  /** The header's bytes, the associated data of every chunk. */
  readonly bytes: Buffer;
}

export function sealedInvalid(): CryptoError {
  return new CryptoError('sealed_invalid', SEALED_INVALID_MESSAGE);
}

export function checkIdentity(id: SealedIdentity): void {
  if (typeof id.purpose !== 'string' || !PURPOSE.test(id.purpose)) {
    throw new CryptoError('argument_invalid', 'a sealed-file purpose is 1-64 characters of a-z, 0-9, ".", "_" and "-"');
  }
  const n = typeof id.fileId === 'string' ? Buffer.byteLength(id.fileId, 'utf8') : 0;
  if (n === 0 || n > MAX_FILE_ID) throw new CryptoError('argument_invalid', 'a sealed-file id is 1 to 1024 bytes of UTF-8');
}

export function encodeHeader(id: SealedIdentity, chunkLog2: number, salt: Buffer, noncePrefix: Buffer): Buffer {
  checkIdentity(id);
  const purpose = Buffer.from(id.purpose, 'ascii');
  const fileId = Buffer.from(id.fileId, 'utf8');
  const fixed = Buffer.alloc(FIXED_BYTES);
  SEALED_MAGIC.copy(fixed, 0);
  fixed.writeUInt8(SEALED_VERSION, 8);
  fixed.writeUInt8(SEALED_SUITE, 9);
  fixed.writeUInt8(chunkLog2, 10);
  fixed.writeUInt8(0, 11);
  salt.copy(fixed, 12);
  noncePrefix.copy(fixed, 12 + SEALED_SALT_BYTES);
  const idLen = Buffer.alloc(2);
  idLen.writeUInt16BE(fileId.length, 0);
  return Buffer.concat([fixed, Buffer.from([purpose.length]), purpose, idLen, fileId]);
}

/** Parses a header from the first bytes of a file; throws sealed_invalid on anything malformed. */
export function parseHeader(buf: Buffer): SealedHeader {
  if (buf.length < FIXED_BYTES + 1 || !buf.subarray(0, 8).equals(SEALED_MAGIC)) {
    throw new CryptoError('sealed_invalid', 'not a cryptvisor sealed file');
  }
  if (buf[8] !== SEALED_VERSION || buf[9] !== SEALED_SUITE) {
    throw new CryptoError('sealed_invalid', `unsupported sealed-file version ${buf[8]}.${buf[9]}`);
  }
  const log2 = buf[10] ?? 0;
  if (log2 < SEALED_MIN_CHUNK_LOG2 || log2 > SEALED_MAX_CHUNK_LOG2 || buf[11] !== 0) throw sealedInvalid();
  const pLen = buf[FIXED_BYTES] ?? 0;
  const pEnd = FIXED_BYTES + 1 + pLen;
  if (buf.length < pEnd + 2) throw sealedInvalid();
  const idLen = buf.readUInt16BE(pEnd);
  const end = pEnd + 2 + idLen;
  if (buf.length < end) throw sealedInvalid();
  const purpose = buf.subarray(FIXED_BYTES + 1, pEnd).toString('latin1');
  const fileIdBytes = buf.subarray(pEnd + 2, end);
  const fileId = fileIdBytes.toString('utf8');
  if (!Buffer.from(fileId, 'utf8').equals(fileIdBytes)) throw sealedInvalid();
  try {
    checkIdentity({ purpose, fileId });
  } catch {
    throw sealedInvalid();
  }
  return {
    purpose,
    fileId,
    chunkSize: 2 ** log2,
    salt: Buffer.from(buf.subarray(12, 12 + SEALED_SALT_BYTES)),
    noncePrefix: Buffer.from(buf.subarray(12 + SEALED_SALT_BYTES, FIXED_BYTES)),
    bytes: Buffer.from(buf.subarray(0, end)),
  };
}

/** The per-file key: HKDF-SHA256 of the caller's key with the file's salt, purpose and id. */
export function deriveFileKey(key: SecretBytes, id: SealedIdentity, salt: Buffer): SecretBytes {
  if (key.length !== 32) throw new CryptoError('key_invalid', `a sealing key must be 32 bytes, not ${key.length}`);
  const purpose = Buffer.from(id.purpose, 'ascii');
  const fileId = Buffer.from(id.fileId, 'utf8');
  const idLen = Buffer.alloc(2);
  idLen.writeUInt16BE(fileId.length, 0);
  const info = Buffer.concat([Buffer.from(KDF_LABEL, 'ascii'), Buffer.from([purpose.length]), purpose, idLen, fileId]);
  const okm = Buffer.from(key.use((ikm) => hkdfSync('sha256', ikm, salt, info, 32)));
  return SecretBytes.from(okm, { zeroSource: true });
}

/** The nonce of chunk `index`: prefix | index u32 BE | last flag. */
export function chunkNonce(prefix: Buffer, index: number, last: boolean): Buffer {
  const n = Buffer.alloc(12);
  prefix.copy(n, 0);
  n.writeUInt32BE(index, SEALED_PREFIX_BYTES);
  n.writeUInt8(last ? 1 : 0, 11);
  return n;
}
