/**
 * The sector cipher of the disk images: src/nbd's EngineXtsCipher over src/crypto's XTS engine,
 * and its use as an in-place transform by the conversions.
 */
import { createXtsKey, type SecretBytes } from '../crypto/index.js';
import { EngineXtsCipher, type SectorCipher } from '../nbd/index.js';
import type { SectorTransform } from './convert.js';

/** A cipher over a copy of the volume key; the caller still owns `secret` and disposes the cipher. */
export function diskCipher(secret: SecretBytes): EngineXtsCipher {
  return new EngineXtsCipher(createXtsKey(secret));
}

/** The cipher as an in-place transform for the conversions, with the segment's iv_tweak added. */
export function sectorTransform(cipher: SectorCipher, direction: 'encrypt' | 'decrypt', ivTweak = 0n): SectorTransform {
  return (data, unit) => (direction === 'encrypt' ? cipher.encrypt(data, unit + ivTweak) : cipher.decrypt(data, unit + ivTweak));
}
