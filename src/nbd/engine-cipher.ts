/**
 * The encrypted device's cipher over src/crypto's XTS engine: the native addon when it is built
 * (batches of sectors, off the main thread), else its pure-Node fallback. The cipher owns the key
 * and disposes it on close.
 */
import { getXtsEngine, type XtsEngine, type XtsKey } from '../crypto/index.js';
import { SECTOR_SIZE, type SectorCipher } from './sector-cipher.js';

export class EngineXtsCipher implements SectorCipher {
  private readonly engine: XtsEngine;
  private readonly key: XtsKey;

  /** Takes ownership of `key`. */
  constructor(key: XtsKey, engine: XtsEngine = getXtsEngine()) {
    this.key = key;
    this.engine = engine;
  }

  /** Which engine runs the cipher ('native' or 'node'). */
  get engineName(): string {
    return this.engine.name;
  }

  encrypt(data: Buffer, firstUnit: bigint, out?: Buffer): Promise<void> {
    return this.engine.encrypt(this.key, data, { sectorSize: SECTOR_SIZE, firstUnit, out });
  }

  decrypt(data: Buffer, firstUnit: bigint, out?: Buffer): Promise<void> {
    return this.engine.decrypt(this.key, data, { sectorSize: SECTOR_SIZE, firstUnit, out });
  }

  dispose(): void {
    this.key.dispose();
  }

  toString(): string {
    return '[EngineXtsCipher redacted]';
  }
}
