/**
 * The block-device layer under the NBD server. Devices compose: a FileDevice (a file or a range of
 * one), an EncryptedDevice over it (4096-byte sectors), and an AlignedDevice on top that accepts
 * any byte range and serializes overlapping writes. The server talks only to this interface.
 */
import { NbdError } from './errors.js';

export interface WriteOptions {
  /** Force unit access: the data is on stable storage when the promise resolves. */
  readonly fua?: boolean;
  /**
   * writeNow only: the caller gives the data buffer up, and the device may overwrite it (an
   * encrypting device encrypts it in place, so it holds ciphertext afterwards, not plaintext).
   */
  readonly consume?: boolean;
}

export interface ZeroOptions extends WriteOptions {
  /** The range must stay allocated (no hole may be punched). */
  readonly noHole?: boolean;
}

export interface BlockDevice {
  /** Size in bytes. */
  readonly size: number;
  /** Requests must be aligned to this many bytes: 1 for a file, 4096 for an encrypted device. */
  readonly blockSize: number;
  /** Reads exactly `length` bytes at `offset`; the buffer belongs to the caller. */
  read(offset: number, length: number): Promise<Buffer>;
  /**
   * Fills all of `buf` from `offset` (so a caller can reuse its buffers; the NBD server does for
   * READ replies). Optional: without it, callers use read().
   */
  readInto?(offset: number, buf: Buffer): Promise<void>;
  /** Writes `data` at `offset`. The device may not keep or change `data` after it resolves. */
  write(offset: number, data: Buffer, opts?: WriteOptions): Promise<void>;
  /**
   * Optional: writes `data` at `offset` now, on this thread, if the device can without waiting for
   * anything (an inline encrypted write of whole sectors that no other request has locked), and
   * returns true once it has; returns false, having done nothing, when the caller must use write().
   * Errors are thrown as write() would reject with them. It saves a request the promises of the
   * asynchronous path (BENCHMARKS.md, NBD data path, session 6).
   */
  writeNow?(offset: number, data: Buffer, opts?: WriteOptions): boolean;
  /** Puts every completed write on stable storage. */
  flush(): Promise<void>;
  /** A hint that the range is unused; its content is undefined afterwards. */
  trim(offset: number, length: number, opts?: WriteOptions): Promise<void>;
  /** Makes the range read as zeros. */
  writeZeroes(offset: number, length: number, opts?: ZeroOptions): Promise<void>;
  /** Flushes and releases the device; later calls fail with `closed`. */
  close(): Promise<void>;
}

/** Throws unless [offset, offset+length) lies inside a device of `size` bytes and is aligned to `align`. */
export function checkRange(size: number, align: number, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new NbdError('invalid_request', 'offset and length must be non-negative integers');
  }
  if (offset + length > size) {
    throw new NbdError('out_of_range', `range ${offset}+${length} runs past the end of the device (${size} bytes)`);
  }
  if (align > 1 && (offset % align !== 0 || length % align !== 0)) {
    throw new NbdError('unaligned', `range ${offset}+${length} is not aligned to ${align} bytes`);
  }
}
