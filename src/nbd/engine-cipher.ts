/**
 * The encrypted device's cipher over src/crypto's XTS engine: the native addon when it is built
 * (batches of sectors, off the main thread), else its pure-Node fallback. The cipher owns the key
 * and disposes it on close. With the native engine it also offers `fileIo`: pread + decrypt and
 * encrypt + pwrite as one thread-pool job, which EncryptedDevice uses over a FileDevice.
 */
import { getXtsEngine, type XtsEngine, type XtsKey } from '../crypto/index.js';
import { NbdError } from './errors.js';
import { SECTOR_SIZE, type FileTarget, type SectorCipher, type SectorFileIo } from './sector-cipher.js';

export class EngineXtsCipher implements SectorCipher {
  private readonly engine: XtsEngine;
  private readonly key: XtsKey;
  /** The engine's fused file jobs (native engine), bound to this key. */
  readonly fileIo?: SectorFileIo;

  /** Takes ownership of `key`. */
  constructor(key: XtsKey, engine: XtsEngine = getXtsEngine()) {
    this.key = key;
    this.engine = engine;
    const io = engine.fileIo;
    if (io !== undefined) {
      const { readDecryptNow, encryptWriteNow } = io;
      this.fileIo = Object.freeze({
        ...(readDecryptNow !== undefined && encryptWriteNow !== undefined
          ? {
              readDecryptNow: (at: FileTarget, buf: Buffer, firstUnit: bigint): boolean =>
                readDecryptNow(key, at, buf, { sectorSize: SECTOR_SIZE, firstUnit }),
              encryptWriteNow: (at: FileTarget, data: Buffer, firstUnit: bigint, sync: boolean, inPlace = false): void =>
                encryptWriteNow(key, at, data, { sectorSize: SECTOR_SIZE, firstUnit, sync, inPlace }),
            }
          : {}),
        readDecrypt: (at: FileTarget, buf: Buffer, firstUnit: bigint): Promise<void> =>
          io.readDecrypt(key, at, buf, { sectorSize: SECTOR_SIZE, firstUnit }),
        encryptWrite: (at: FileTarget, data: Buffer, firstUnit: bigint, sync: boolean): Promise<void> =>
          io.encryptWrite(key, at, data, { sectorSize: SECTOR_SIZE, firstUnit, sync }),
      });
    }
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

  get keyLength(): number {
    return this.key.length;
  }

  copyKeyInto(dst: Uint8Array): void {
    if (dst.length !== this.key.length) throw new NbdError('config_invalid', `a key copy takes ${this.key.length} bytes`);
    this.key.use((k) => dst.set(k));
  }

  dispose(): void {
    this.key.dispose();
  }

  toString(): string {
    return '[EngineXtsCipher redacted]';
  }
}
