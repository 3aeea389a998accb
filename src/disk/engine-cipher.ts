/**
 * The XTS engine of src/crypto as the sector cipher of the encrypted block device and the
 * conversions: 4096-byte sectors, plain64 IVs counting 512-byte units.
 */
import { createXtsKey, getXtsEngine, type SecretBytes, type XtsEngine, type XtsKey } from '../crypto/index.js';
import type { SectorCipher } from '../nbd/index.js';
import type { SectorTransform } from './convert.js';

export class EngineSectorCipher implements SectorCipher {
  readonly #key: XtsKey;
  readonly engine: XtsEngine;

  /** Copies the key; the caller still owns `secret`. */
  constructor(secret: SecretBytes, engine: XtsEngine = getXtsEngine()) {
    this.#key = createXtsKey(secret);
    this.engine = engine;
  }

  encrypt(data: Buffer, firstUnit: bigint, out?: Buffer): Promise<void> {
    return this.engine.encrypt(this.#key, data, out ? { sectorSize: 4096, firstUnit, out } : { sectorSize: 4096, firstUnit });
  }

  decrypt(data: Buffer, firstUnit: bigint, out?: Buffer): Promise<void> {
    return this.engine.decrypt(this.#key, data, out ? { sectorSize: 4096, firstUnit, out } : { sectorSize: 4096, firstUnit });
  }

  /** The cipher as an in-place transform for the conversions, with the segment's iv_tweak added. */
  transform(direction: 'encrypt' | 'decrypt', ivTweak = 0n): SectorTransform {
    return (data, unit) => (direction === 'encrypt' ? this.encrypt(data, unit + ivTweak) : this.decrypt(data, unit + ivTweak));
  }

  dispose(): void {
    this.#key.dispose();
  }
}
