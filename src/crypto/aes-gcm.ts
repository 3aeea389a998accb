/**
 * AES-256-GCM, the one AEAD primitive of cryptvisor (key wrap and sealed files), over Node's OpenSSL.
 * 96-bit nonces, 128-bit tags. open() throws a plain Error on failure; callers turn it into their
 * own single error (unwrap_failed, sealed_invalid) so that nothing distinguishes the causes.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';

export const GCM_NONCE_BYTES = 12;
export const GCM_TAG_BYTES = 16;

/** Encrypts pt; returns ciphertext || tag. */
export function gcmSeal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, pt: Uint8Array): Buffer {
  const c = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: GCM_TAG_BYTES });
  c.setAAD(aad);
  const body = c.update(pt);
  const tail = c.final();
  return Buffer.concat([body, tail, c.getAuthTag()]);
}

/** Decrypts ciphertext || tag; throws when the tag does not verify. The result is released only after the tag checks. */
export function gcmOpen(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Buffer {
  if (sealed.length < GCM_TAG_BYTES) throw new Error('sealed data shorter than a tag');
  const d = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: GCM_TAG_BYTES });
  d.setAAD(aad);
  d.setAuthTag(sealed.subarray(sealed.length - GCM_TAG_BYTES));
  const body = d.update(sealed.subarray(0, sealed.length - GCM_TAG_BYTES));
  try {
    const tail = d.final();
    return tail.length === 0 ? body : Buffer.concat([body, tail]);
  } catch (err) {
    body.fill(0);
    throw err;
  }
}
