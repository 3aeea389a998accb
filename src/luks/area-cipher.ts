/**
 * Encryption of a keyslot's area: the cipher the area names, in 512-byte sectors whatever the
 * data segment's sector size, with a plain64 IV (the little-endian sector index from the area's
 * start, zero-padded to 16 bytes), as cryptsetup and dm-crypt do.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { LuksError } from './errors.js';
import { AREA_SECTOR_SIZE } from './layout.js';

const XTS: Readonly<Record<number, string>> = { 32: 'aes-128-xts', 64: 'aes-256-xts' };

/** The OpenSSL cipher name for a keyslot area's encryption and key size. */
export function areaCipherName(encryption: string, keySize: number): string {
  const name = encryption === 'aes-xts-plain64' ? XTS[keySize] : undefined;
  if (name === undefined) {
    throw new LuksError(
      'not_supported',
      `keyslot area cipher ${encryption} with a ${keySize * 8}-bit key is not supported`,
    );
  }
  return name;
}

/** Encrypts or decrypts data (a multiple of 512 bytes) in place with key. */
export function cryptArea(cipherName: string, key: Uint8Array, data: Buffer, encrypt: boolean): void {
  if (data.length % AREA_SECTOR_SIZE !== 0)
    throw new LuksError('schema_invalid', 'a keyslot area is not a multiple of 512 bytes');
  const iv = Buffer.alloc(16);
  for (let sector = 0, at = 0; at < data.length; sector++, at += AREA_SECTOR_SIZE) {
    iv.writeBigUInt64LE(BigInt(sector));
    const c = encrypt ? createCipheriv(cipherName, key, iv) : createDecipheriv(cipherName, key, iv);
    const chunk = data.subarray(at, at + AREA_SECTOR_SIZE);
    const out = c.update(chunk);
    c.final();
    out.copy(chunk);
    out.fill(0);
  }
}
