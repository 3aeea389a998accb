/**
 * Key derivation and the hashes LUKS2 names. pbkdf2 only: Node 20 has no argon2, and the project
 * takes no dependency for it (docs/luks.md), so argon2 keyslots made by cryptsetup are refused
 * with not_supported.
 */
import { getHashes, pbkdf2 } from 'node:crypto';
import { LuksError } from './errors.js';
import type { Luks2Argon2, Luks2Pbkdf2 } from './metadata.js';

const HASHES = new Set(getHashes());

/** Checks that Node implements the hash LUKS names (sha1, sha256, sha512, ripemd160, ...). */
export function checkHash(hash: string, where: string): string {
  if (!HASHES.has(hash)) throw new LuksError('not_supported', `${where}: hash "${hash}" is not supported`);
  return hash;
}

export function pbkdf2Async(secret: Uint8Array, salt: Uint8Array, iterations: number, keyLen: number, hash: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    pbkdf2(secret, salt, iterations, keyLen, hash, (err, key) => {
      if (err) reject(new LuksError('not_supported', `pbkdf2 with ${hash} failed`, { cause: err }));
      else resolve(key);
    });
  });
}

/** Derives keyLen bytes from a passphrase with a keyslot's kdf. The caller zeroes the result. */
export function deriveKey(kdf: Luks2Pbkdf2 | Luks2Argon2, passphrase: Uint8Array, keyLen: number): Promise<Buffer> {
  if (kdf.type !== 'pbkdf2') {
    throw new LuksError('not_supported', `keyslot kdf "${kdf.type}" is not supported (pbkdf2 only; see docs/luks.md)`);
  }
  const salt = Buffer.from(kdf.salt, 'base64');
  return pbkdf2Async(passphrase, salt, kdf.iterations, keyLen, checkHash(kdf.hash, 'keyslot kdf'));
}
