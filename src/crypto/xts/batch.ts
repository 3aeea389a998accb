/**
 * Checks of a sector batch and the plain64 tweak, shared by both engines.
 */
import { CryptoError } from '../errors.js';
import type { XtsBatchOptions } from './engine.js';
import type { XtsKey } from './xts-key.js';

const MAX_UNIT = (1n << 64n) - 1n;

/** Validates a batch call; returns the number of sectors and the 512-byte units per sector. */
export function checkBatch(key: XtsKey, data: Uint8Array, opts: XtsBatchOptions): { sectors: number; unitsPerSector: number } {
  if (key.disposed) throw new CryptoError('key_disposed', 'the XTS key was disposed');
  const { sectorSize, firstUnit, out } = opts;
  if (sectorSize !== 512 && sectorSize !== 4096) {
    throw new CryptoError('argument_invalid', `the sector size must be 512 or 4096, not ${String(sectorSize)}`);
  }
  if (data.length % sectorSize !== 0) {
    throw new CryptoError('length_invalid', `data of ${data.length} bytes is not a whole number of ${sectorSize}-byte sectors`);
  }
  if (out !== undefined && out.length !== data.length) {
    throw new CryptoError('length_invalid', `the output buffer holds ${out.length} bytes, not ${data.length}`);
  }
  const sectors = data.length / sectorSize;
  const unitsPerSector = sectorSize / 512;
  if (typeof firstUnit !== 'bigint' || firstUnit < 0n || firstUnit + BigInt(sectors * unitsPerSector) > MAX_UNIT + 1n) {
    throw new CryptoError('argument_invalid', 'the first unit must be a bigint in [0, 2^64) and the batch must not wrap');
  }
  return { sectors, unitsPerSector };
}

/** Validates a single-unit call. */
export function checkUnit(key: XtsKey, tweak16: Uint8Array, data: Uint8Array): void {
  if (key.disposed) throw new CryptoError('key_disposed', 'the XTS key was disposed');
  if (tweak16.length !== 16) throw new CryptoError('argument_invalid', `the tweak must be 16 bytes, not ${tweak16.length}`);
  if (data.length < 16 || data.length % 16 !== 0) {
    throw new CryptoError('length_invalid', `an XTS data unit must be a positive multiple of 16 bytes, not ${data.length}`);
  }
}

/** Writes the plain64 tweak of a 512-byte unit index: 64-bit little-endian, then 8 zero bytes. */
export function writePlain64(unit: bigint, out16: Buffer): void {
  out16.writeBigUInt64LE(unit, 0);
  out16.writeBigUInt64LE(0n, 8);
}
