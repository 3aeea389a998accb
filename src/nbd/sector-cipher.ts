/**
 * What the encrypted device needs from a cipher: AES-XTS over whole 4096-byte sectors, where the
 * sector at payload offset o takes the plain64 tweak `firstUnit + o / 512` (512-byte units, as in
 * LUKS2 with 4096-byte sectors). `out`, when given, receives the result; otherwise it is in place.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { NbdError } from './errors.js';

/** A file descriptor and a byte position in its file. */
export interface FileTarget {
  readonly fd: number;
  readonly position: number;
}

/** File I/O fused with the cipher (one thread-pool job per request); see EngineXtsCipher. */
export interface SectorFileIo {
  /** Reads whole sectors at `at` into buf (zeros past the end of the file) and decrypts them in place. */
  readDecrypt(at: FileTarget, buf: Buffer, firstUnit: bigint): Promise<void>;
  /** Encrypts whole sectors into a private buffer and writes them at `at`; fdatasync after when `sync`. */
  encryptWrite(at: FileTarget, data: Buffer, firstUnit: bigint, sync: boolean): Promise<void>;
  /** readDecrypt on the calling thread when the page cache holds the range; false (nothing read) otherwise. */
  readDecryptNow?(at: FileTarget, buf: Buffer, firstUnit: bigint): boolean;
  /** encryptWrite on the calling thread; with `inPlace`, data itself is encrypted (it holds ciphertext afterwards). */
  encryptWriteNow?(at: FileTarget, data: Buffer, firstUnit: bigint, sync: boolean, inPlace?: boolean): void;
}

export interface SectorCipher {
  encrypt(data: Buffer, firstUnit: bigint, out?: Buffer): Promise<void>;
  decrypt(data: Buffer, firstUnit: bigint, out?: Buffer): Promise<void>;
  /** Fused file I/O, when the cipher offers it; an EncryptedDevice over a FileDevice then uses it. */
  readonly fileIo?: SectorFileIo;
  /**
   * Copies the raw key into `dst` (exactly its length) for the same cipher in another thread of
   * this process; the caller zeroes `dst` when done. Optional: a device whose cipher lacks it is
   * served in one thread only.
   */
  copyKeyInto?(dst: Uint8Array): void;
  /** The key's length in bytes, with copyKeyInto. */
  readonly keyLength?: number;
  /** Zeroes the key; called by the device that owns the cipher when it closes. */
  dispose?(): void;
}

export const SECTOR_SIZE = 4096;
const UNITS_PER_SECTOR = BigInt(SECTOR_SIZE / 512);

/**
 * A SectorCipher over Node's own `aes-256-xts`, one cipher object per sector. It keeps a private
 * copy of the 64-byte key, zeroed by dispose(). The XTS engine of src/crypto is the fast path;
 * this adapter is the engine-independent reference the encrypted device is tested with.
 */
export class NodeXtsCipher implements SectorCipher {
  #key: Buffer | null;

  constructor(key: Uint8Array) {
    if (key.length !== 64) throw new NbdError('config_invalid', `an AES-256-XTS key is 64 bytes, not ${key.length}`);
    if (Buffer.compare(key.subarray(0, 32), key.subarray(32)) === 0) {
      throw new NbdError('config_invalid', 'the two halves of an XTS key must differ');
    }
    this.#key = Buffer.from(key);
  }

  encrypt(data: Buffer, firstUnit: bigint, out?: Buffer): Promise<void> {
    this.run(true, data, firstUnit, out ?? data);
    return Promise.resolve();
  }

  decrypt(data: Buffer, firstUnit: bigint, out?: Buffer): Promise<void> {
    this.run(false, data, firstUnit, out ?? data);
    return Promise.resolve();
  }

  private run(enc: boolean, data: Buffer, firstUnit: bigint, out: Buffer): void {
    const key = this.#key;
    if (key === null) throw new NbdError('closed', 'the cipher key has been disposed');
    if (data.length % SECTOR_SIZE !== 0 || out.length < data.length) {
      throw new NbdError('unaligned', 'cipher input must be whole 4096-byte sectors');
    }
    const iv = Buffer.alloc(16);
    let unit = firstUnit;
    for (let at = 0; at < data.length; at += SECTOR_SIZE, unit += UNITS_PER_SECTOR) {
      iv.writeBigUInt64LE(unit, 0);
      const c = enc ? createCipheriv('aes-256-xts', key, iv) : createDecipheriv('aes-256-xts', key, iv);
      const res = c.update(data.subarray(at, at + SECTOR_SIZE));
      c.final();
      res.copy(out, at);
    }
  }

  dispose(): void {
    this.#key?.fill(0);
    this.#key = null;
  }

  toString(): string {
    return '[NodeXtsCipher redacted]';
  }
}
