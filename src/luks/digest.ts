/**
 * The pbkdf2 digest of the volume key (LUKS2 digest type "pbkdf2"): PBKDF2(hash, volume key, salt,
 * iterations) truncated to the stored digest's length. It lets anyone holding a candidate key check
 * it, without revealing the key.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { SecretBytes } from '../crypto/index.js';
import { LuksError } from './errors.js';
import { checkHash, pbkdf2Async } from './kdf.js';
import { KDF_SALT_SIZE, VOLUME_KEY_SIZE } from './layout.js';
import type { Luks2Digest, Luks2Header } from './metadata.js';

/** Digest iterations when the caller names none (the key is 512 random bits; this is not its strength). */
export const DEFAULT_DIGEST_ITERATIONS = 100_000;

/** Refuses keys that are not 512 bits or whose XTS halves are equal. */
export function checkVolumeKey(key: SecretBytes): void {
  if (key.length !== VOLUME_KEY_SIZE)
    throw new LuksError('key_invalid', `the volume key must be ${VOLUME_KEY_SIZE} bytes`);
  const equalHalves = key.use((b) => timingSafeEqual(b.subarray(0, 32), b.subarray(32)));
  if (equalHalves) throw new LuksError('key_invalid', 'the volume key has two equal XTS halves');
}

export async function createDigest(
  key: SecretBytes,
  iterations: number,
  segments: string[],
): Promise<Luks2Digest> {
  const salt = randomBytes(KDF_SALT_SIZE);
  const digest = await key.use((b) => pbkdf2Async(b, salt, iterations, 32, 'sha256'));
  return {
    type: 'pbkdf2',
    keyslots: [],
    segments,
    hash: 'sha256',
    iterations,
    salt: salt.toString('base64'),
    digest: digest.toString('base64'),
  };
}

async function matches(d: Luks2Digest, key: SecretBytes): Promise<boolean> {
  const want = Buffer.from(d.digest, 'base64');
  const got = await key.use((b) =>
    pbkdf2Async(b, Buffer.from(d.salt, 'base64'), d.iterations, want.length, checkHash(d.hash, 'digest')),
  );
  return timingSafeEqual(got, want);
}

/** The id of the digest that covers segment "0". */
export function segmentDigestId(header: Luks2Header): string {
  const found = Object.entries(header.json.digests).find(([, d]) => d.segments.includes('0'));
  if (found === undefined) throw new LuksError('schema_invalid', 'no digest covers segment 0');
  return found[0];
}

/** True when key is the volume key of segment "0". */
export async function isVolumeKey(header: Luks2Header, key: SecretBytes): Promise<boolean> {
  const d = header.json.digests[segmentDigestId(header)] as Luks2Digest;
  return matches(d, key);
}

/** Throws key_mismatch unless key is the volume key of segment "0". */
export async function verifyVolumeKey(header: Luks2Header, key: SecretBytes): Promise<void> {
  if (!(await isVolumeKey(header, key)))
    throw new LuksError('key_mismatch', 'the volume key does not match this disk');
}
