import { CommonError } from './errors.js';

const UNITS: Readonly<Record<string, bigint>> = { '': 1n, K: 1024n, M: 1024n ** 2n, G: 1024n ** 3n, T: 1024n ** 4n };

/**
 * Parses SIZE as DESIGN.md §10 defines it: bytes, or a whole number with K, M, G or T (powers of
 * 1024, as qemu-img reads them); a positive multiple of 4096, at most 2^53 bytes.
 */
export function parseSize(text: string): number {
  const m = /^([0-9]+)([KMGT]?)$/i.exec(text.trim());
  if (!m || m[1] === undefined) {
    throw new CommonError('size_invalid', `invalid size "${text}": expected bytes or a number with K, M, G or T`);
  }
  const unit = UNITS[(m[2] ?? '').toUpperCase()] ?? 1n;
  const bytes = BigInt(m[1]) * unit;
  if (bytes <= 0n || bytes % 4096n !== 0n) {
    throw new CommonError('size_invalid', `invalid size "${text}": must be a positive multiple of 4096 bytes`);
  }
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new CommonError('size_invalid', `invalid size "${text}": too large`);
  }
  return Number(bytes);
}

/** Formats a byte count for people: 64 MiB, 1.5 GiB. */
export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[i]}`;
}
