/**
 * Adding a passphrase keyslot (the escrow keyslot of DESIGN.md §3): pbkdf2 (default) or argon2id
 * turns the passphrase into an area key; the volume key is split with the anti-forensic splitter (4000 stripes,
 * sha256), encrypted with aes-xts-plain64 in 512-byte sectors and written to a free area; then the
 * header, naming the keyslot and binding it to the volume key's digest, is written.
 */
import { randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import type { SecretBytes } from '../crypto/index.js';
import { afSplit } from './af-splitter.js';
import { areaCipherName, cryptArea } from './area-cipher.js';
import { checkVolumeKey, segmentDigestId, verifyVolumeKey } from './digest.js';
import { LuksError } from './errors.js';
import { argon2Async, pbkdf2Async } from './kdf.js';
import { allocateArea, freeKeyslotId, materialSize } from './keyslot-area.js';
import {
  AF_HASH,
  AF_STRIPES,
  AREA_ALIGNMENT,
  DEFAULT_CIPHER,
  KDF_SALT_SIZE,
  VOLUME_KEY_SIZE,
} from './layout.js';
import { cloneJson } from './metadata.js';
import type { Luks2Argon2, Luks2Header, Luks2Keyslot, Luks2Pbkdf2 } from './metadata.js';
import { writeAt } from './source.js';
import { writeLuks2Header } from './write-header.js';
import type { WriteOptions } from './write-header.js';

/** pbkdf2-sha256 iterations of a keyslot when the caller names none (OWASP's 2023 advice: 600,000). */
export const DEFAULT_KEYSLOT_ITERATIONS = 600_000;

/** argon2id costs when the caller names none: RFC 9106 §4's second recommendation (t=3, 64 MiB, p=4). */
export const DEFAULT_ARGON2ID = Object.freeze({ time: 3, memory: 65536, parallelism: 4 });

/** How the passphrase becomes the area key. */
export type KeyslotKdf =
  | { readonly type: 'pbkdf2'; readonly iterations?: number }
  | {
      readonly type: 'argon2id';
      readonly time?: number;
      readonly memory?: number;
      readonly parallelism?: number;
    };

export interface AddKeyslotOptions extends WriteOptions {
  /** The kdf (default pbkdf2-sha256). */
  readonly kdf?: KeyslotKdf;
  /** pbkdf2 iterations (at least 1000), a shortcut for kdf {type: 'pbkdf2', iterations}. */
  readonly iterations?: number;
  /** The keyslot number; by default the lowest free one. */
  readonly keyslot?: string;
}

async function deriveAreaKey(
  opts: AddKeyslotOptions,
  passphrase: SecretBytes,
): Promise<{ key: Buffer; kdf: Luks2Pbkdf2 | Luks2Argon2 }> {
  const salt = randomBytes(KDF_SALT_SIZE);
  const want = opts.kdf ?? { type: 'pbkdf2', iterations: opts.iterations };
  if (want.type === 'argon2id') {
    const params = { ...DEFAULT_ARGON2ID, ...want, type: 'argon2id' as const, tagLength: VOLUME_KEY_SIZE };
    if (params.time < 1 || params.memory < 1024 || params.parallelism < 1) {
      throw new LuksError('key_invalid', 'argon2id needs time >= 1, memory >= 1024 KiB and parallelism >= 1');
    }
    const key = await passphrase.use((p) => argon2Async(params, p, salt));
    const kdf: Luks2Argon2 = {
      type: 'argon2id',
      time: params.time,
      memory: params.memory,
      cpus: params.parallelism,
      salt: salt.toString('base64'),
    };
    return { key, kdf };
  }
  const iterations = want.iterations ?? DEFAULT_KEYSLOT_ITERATIONS;
  if (!Number.isSafeInteger(iterations) || iterations < 1000) {
    throw new LuksError('key_invalid', 'keyslot iterations must be an integer of at least 1000');
  }
  const key = await passphrase.use((p) => pbkdf2Async(p, salt, iterations, VOLUME_KEY_SIZE, 'sha256'));
  return { key, kdf: { type: 'pbkdf2', hash: 'sha256', iterations, salt: salt.toString('base64') } };
}

/** Adds a passphrase keyslot for volumeKey (checked against the digest) and returns the header as written. */
export async function addPassphraseKeyslot(
  fh: FileHandle,
  header: Luks2Header,
  volumeKey: SecretBytes,
  passphrase: SecretBytes,
  opts: AddKeyslotOptions = {},
): Promise<Luks2Header> {
  checkVolumeKey(volumeKey);
  await verifyVolumeKey(header, volumeKey);
  if (passphrase.length === 0) throw new LuksError('key_invalid', 'the passphrase is empty');
  const id = freeKeyslotId(header, opts.keyslot);
  const material = materialSize(VOLUME_KEY_SIZE, AF_STRIPES);
  const areaSize = Math.ceil(material / AREA_ALIGNMENT) * AREA_ALIGNMENT;
  const offset = allocateArea(header, areaSize);

  const { key: areaKey, kdf } = await deriveAreaKey(opts, passphrase);
  const split = volumeKey.use((k) => afSplit(k, AF_STRIPES, AF_HASH));
  const data = Buffer.alloc(material);
  split.copy(data);
  split.fill(0);
  try {
    cryptArea(areaCipherName(DEFAULT_CIPHER, VOLUME_KEY_SIZE), areaKey, data, true);
  } finally {
    areaKey.fill(0);
  }
  await writeAt(fh, offset, data, opts.sync !== false);

  const keyslot: Luks2Keyslot = {
    type: 'luks2',
    key_size: VOLUME_KEY_SIZE,
    af: { type: 'luks1', stripes: AF_STRIPES, hash: AF_HASH },
    area: {
      type: 'raw',
      offset: String(offset),
      size: String(areaSize),
      encryption: DEFAULT_CIPHER,
      key_size: VOLUME_KEY_SIZE,
    },
    kdf,
  };
  const json = cloneJson(header.json);
  json.keyslots[id] = keyslot;
  const digest = json.digests[segmentDigestId(header)];
  digest?.keyslots.push(id);
  digest?.keyslots.sort((a, b) => Number(a) - Number(b));
  return writeLuks2Header(fh, { ...header, json }, opts);
}
