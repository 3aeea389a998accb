/**
 * The XTS engine contract, shared by the native addon and the pure-Node fallback.
 *
 * A batch is `data.length / sectorSize` sectors, each one XTS data unit. Sector i of the batch
 * gets the tweak `firstUnit + i * (sectorSize / 512)` as a 128-bit little-endian number: the IV
 * counts 512-byte units from the start of the payload, also with 4096-byte sectors, as dm-crypt's
 * plain64 does when iv_large_sectors is unset (the LUKS2 default). firstUnit already includes the
 * segment's iv_tweak.
 */
import type { XtsKey } from './xts-key.js';

export type XtsSectorSize = 512 | 4096;

export interface XtsBatchOptions {
  readonly sectorSize: XtsSectorSize;
  /** The 512-byte unit index of data[0], including the segment's iv_tweak. */
  readonly firstUnit: bigint;
  /** Where to write the result (same length as data); in place when absent. */
  readonly out?: Uint8Array;
}

/** Where a fused file job reads or writes: a descriptor and a byte position in the file. */
export interface XtsFileTarget {
  readonly fd: number;
  readonly position: number;
}

/** Options of XtsFileIo.encryptWriteNow. */
export interface NowWriteOptions {
  /** fdatasync after the write. */
  readonly sync?: boolean;
  /** The caller gives data up: it is encrypted in place instead of into a private buffer. */
  readonly inPlace?: boolean;
}

/**
 * File I/O fused with the cipher (native engine only, native/file-io.c): one thread-pool job per
 * call instead of one for the system call and one for the cipher. Bytes past the end of the file
 * read as zeros (before decryption).
 */
export interface XtsFileIo {
  /** pread into buf (whole sectors), then decrypt it in place. */
  readDecrypt(key: XtsKey, at: XtsFileTarget, buf: Uint8Array, opts: XtsBatchOptions): Promise<void>;
  /** Encrypt data (whole sectors) into a private buffer and pwrite it in full; fdatasync after when `sync`. */
  encryptWrite(key: XtsKey, at: XtsFileTarget, data: Uint8Array, opts: XtsBatchOptions & { readonly sync?: boolean }): Promise<void>;
  /** readDecrypt on the calling thread when the page cache holds the whole range; false (nothing read) otherwise. */
  readDecryptNow?(key: XtsKey, at: XtsFileTarget, buf: Uint8Array, opts: XtsBatchOptions): boolean;
  /** encryptWrite on the calling thread; with `inPlace`, data itself is encrypted (it holds ciphertext afterwards). */
  encryptWriteNow?(key: XtsKey, at: XtsFileTarget, data: Uint8Array, opts: XtsBatchOptions & NowWriteOptions): void;
}

export interface XtsEngine {
  readonly name: 'native' | 'node';
  /** Fused file I/O, when the engine offers it (the native addon built with native/file-io.c). */
  readonly fileIo?: XtsFileIo;
  /** Encrypts whole sectors; resolves when out (or data) holds the result. */
  encrypt(key: XtsKey, data: Uint8Array, opts: XtsBatchOptions): Promise<void>;
  decrypt(key: XtsKey, data: Uint8Array, opts: XtsBatchOptions): Promise<void>;
  /** One data unit (any multiple of 16 bytes, at least 16) under a 16-byte tweak; returns new bytes. */
  encryptUnit(key: XtsKey, tweak16: Uint8Array, data: Uint8Array): Uint8Array;
  decryptUnit(key: XtsKey, tweak16: Uint8Array, data: Uint8Array): Uint8Array;
}
