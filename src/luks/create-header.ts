/**
 * A new header in cryptsetup's default LUKS2 layout (DESIGN.md §4): two 16 KiB metadata copies,
 * the keyslots area up to 16 MiB, one crypt segment "0" (aes-xts-plain64, 4096-byte sectors,
 * size dynamic), a pbkdf2 digest of the volume key, a cryptvisor token, and no keyslot.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { SecretBytes } from '../crypto/index.js';
import { checkVolumeKey, createDigest, DEFAULT_DIGEST_ITERATIONS } from './digest.js';
import { LuksError } from './errors.js';
import {
  BINARY_HEADER_SIZE,
  DEFAULT_CIPHER,
  DEFAULT_DATA_OFFSET,
  DEFAULT_HEADER_SIZE,
  DEFAULT_KEYSLOTS_SIZE,
  DEFAULT_SECTOR_SIZE,
} from './layout.js';
import type { Luks2Header, Luks2Json } from './metadata.js';
import { tokenJson } from './token.js';
import type { CryptvisorToken } from './token.js';
import { encodeHeader } from './write-header.js';
import { writeAt } from './source.js';

export interface CreateOptions {
  /** The disk DEK: 64 bytes, two different XTS halves. */
  readonly volumeKey: SecretBytes;
  readonly token: CryptvisorToken;
  /** Defaults to a random UUID. */
  readonly uuid?: string;
  readonly label?: string;
  readonly subsystem?: string;
  /** A fixed payload size in bytes (a multiple of 4096); by default the segment is "dynamic". */
  readonly payloadSize?: number;
  /** pbkdf2 iterations of the volume key digest (default DEFAULT_DIGEST_ITERATIONS). */
  readonly digestIterations?: number;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface CreatedHeader {
  /** The header as it is in bytes (seqid 1). */
  readonly header: Luks2Header;
  /** The primary copy, for offset 0. */
  readonly primary: Buffer;
  /** The secondary copy, for offset header.hdrSize. */
  readonly secondary: Buffer;
}

export async function createLuks2Header(opts: CreateOptions): Promise<CreatedHeader> {
  checkVolumeKey(opts.volumeKey);
  const uuid = opts.uuid ?? randomUUID();
  if (!UUID_RE.test(uuid))
    throw new LuksError('bad_header', 'the uuid must be a UUID (8-4-4-4-12 hex digits)');
  const size = opts.payloadSize;
  if (size !== undefined && (!Number.isSafeInteger(size) || size <= 0 || size % DEFAULT_SECTOR_SIZE !== 0)) {
    throw new LuksError('schema_invalid', 'the payload size must be a positive multiple of 4096');
  }
  const iterations = opts.digestIterations ?? DEFAULT_DIGEST_ITERATIONS;
  if (!Number.isSafeInteger(iterations) || iterations < 1000) {
    throw new LuksError('schema_invalid', 'digest iterations must be an integer of at least 1000');
  }
  const json: Luks2Json = {
    keyslots: {},
    tokens: { '0': tokenJson(opts.token) },
    segments: {
      '0': {
        type: 'crypt',
        offset: String(DEFAULT_DATA_OFFSET),
        size: size === undefined ? 'dynamic' : String(size),
        iv_tweak: '0',
        encryption: DEFAULT_CIPHER,
        sector_size: DEFAULT_SECTOR_SIZE,
      },
    },
    digests: { '0': await createDigest(opts.volumeKey, iterations, ['0']) },
    config: {
      json_size: String(DEFAULT_HEADER_SIZE - BINARY_HEADER_SIZE),
      keyslots_size: String(DEFAULT_KEYSLOTS_SIZE),
    },
  };
  const header: Luks2Header = {
    hdrSize: DEFAULT_HEADER_SIZE,
    seqid: 1,
    uuid: uuid.toLowerCase(),
    label: opts.label ?? '',
    subsystem: opts.subsystem ?? '',
    checksumAlg: 'sha256',
    salts: { primary: randomBytes(64), secondary: randomBytes(64) },
    json,
  };
  return { header, ...encodeHeader(header, header.seqid) };
}

/**
 * Creates a new LUKS2 image at path (refusing an existing file): both header copies, a zeroed
 * keyslots area, and a sparse payload of payloadBytes (the file is dataOffset + payloadBytes
 * long). The payload holds no valid ciphertext yet: reads of it decrypt to noise until written.
 */
export async function formatLuks2(
  path: string,
  payloadBytes: number,
  opts: CreateOptions,
): Promise<Luks2Header> {
  if (!Number.isSafeInteger(payloadBytes) || payloadBytes < 0 || payloadBytes % DEFAULT_SECTOR_SIZE !== 0) {
    throw new LuksError('schema_invalid', 'the payload size must be a multiple of 4096');
  }
  if (opts.payloadSize !== undefined && opts.payloadSize !== payloadBytes) {
    throw new LuksError('schema_invalid', 'the segment size and the payload size differ');
  }
  const created = await createLuks2Header(opts);
  let fh;
  try {
    fh = await open(path, 'wx', 0o600);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'EEXIST')
      throw new LuksError('image_exists', `${path} already exists`, { cause });
    throw new LuksError('io_failed', `cannot create ${path}`, { cause });
  }
  try {
    await fh.truncate(DEFAULT_DATA_OFFSET + payloadBytes);
    await writeAt(fh, 0, created.primary, true);
    await writeAt(fh, created.header.hdrSize, created.secondary, true);
    return created.header;
  } finally {
    await fh.close();
  }
}
