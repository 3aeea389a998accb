/**
 * Adding a passphrase keyslot (the escrow keyslot of DESIGN.md §3): pbkdf2 turns the passphrase
 * into an area key; the volume key is split with the anti-forensic splitter (4000 stripes,
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
import { pbkdf2Async } from './kdf.js';
import { allocateArea, freeKeyslotId, materialSize } from './keyslot-area.js';
import { AF_HASH, AF_STRIPES, AREA_ALIGNMENT, DEFAULT_CIPHER, KDF_SALT_SIZE, VOLUME_KEY_SIZE } from './layout.js';
import { cloneJson } from './metadata.js';
import type { Luks2Header, Luks2Keyslot } from './metadata.js';
import { writeAt } from './source.js';
import { writeLuks2Header } from './write-header.js';
import type { WriteOptions } from './write-header.js';

/** pbkdf2-sha256 iterations of a keyslot when the caller names none (OWASP's 2023 advice: 600,000). */
export const DEFAULT_KEYSLOT_ITERATIONS = 600_000;

export interface AddKeyslotOptions extends WriteOptions {
  /** pbkdf2 iterations (at least 1000). */
  readonly iterations?: number;
  /** The keyslot number; by default the lowest free one. */
  readonly keyslot?: string;
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
  const iterations = opts.iterations ?? DEFAULT_KEYSLOT_ITERATIONS;
  if (!Number.isSafeInteger(iterations) || iterations < 1000) {
    throw new LuksError('key_invalid', 'keyslot iterations must be an integer of at least 1000');
  }
  const id = freeKeyslotId(header, opts.keyslot);
  const material = materialSize(VOLUME_KEY_SIZE, AF_STRIPES);
  const areaSize = Math.ceil(material / AREA_ALIGNMENT) * AREA_ALIGNMENT;
  const offset = allocateArea(header, areaSize);
  const salt = randomBytes(KDF_SALT_SIZE);

  const areaKey = await passphrase.use((p) => pbkdf2Async(p, salt, iterations, VOLUME_KEY_SIZE, 'sha256'));
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
    area: { type: 'raw', offset: String(offset), size: String(areaSize), encryption: DEFAULT_CIPHER, key_size: VOLUME_KEY_SIZE },
    kdf: { type: 'pbkdf2', hash: 'sha256', iterations, salt: salt.toString('base64') },
  };
  const json = cloneJson(header.json);
  json.keyslots[id] = keyslot;
  const digest = json.digests[segmentDigestId(header)];
  digest?.keyslots.push(id);
  digest?.keyslots.sort((a, b) => Number(a) - Number(b));
  return writeLuks2Header(fh, { ...header, json }, opts);
}
