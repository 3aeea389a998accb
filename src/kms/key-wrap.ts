import { createCipheriv, createDecipheriv } from 'node:crypto';
import { KmipError } from '../kmip/index.js';

/**
 * NIST AES key wrap through Node's OpenSSL: RFC 3394 (id-aesN-wrap, default IV A6A6A6A6A6A6A6A6)
 * for material that is a multiple of 8 bytes and at least 16, RFC 5649 (id-aesN-wrap-pad,
 * IV A65959A6) otherwise or when padding is asked for. A failed unwrap always says the same thing.
 */
const RFC3394_IV = Buffer.from('a6a6a6a6a6a6a6a6', 'hex');
const RFC5649_IV = Buffer.from('a65959a6', 'hex');

function cipherName(kek: Uint8Array, pad: boolean): string {
  const bits = kek.length * 8;
  if (bits !== 128 && bits !== 192 && bits !== 256) throw new KmipError('invalid_field', 'the wrapping key must be an AES key');
  return `id-aes${bits}-wrap${pad ? '-pad' : ''}`;
}

export function needsPadding(material: Uint8Array): boolean {
  return material.length < 16 || material.length % 8 !== 0;
}

export function wrapKey(kek: Uint8Array, material: Uint8Array, forcePad = false): Buffer {
  const pad = forcePad || needsPadding(material);
  const c = createCipheriv(cipherName(kek, pad), kek, pad ? RFC5649_IV : RFC3394_IV);
  return Buffer.concat([c.update(material), c.final()]);
}

export function unwrapKey(kek: Uint8Array, wrapped: Uint8Array, pad: boolean): Buffer {
  try {
    const d = createDecipheriv(cipherName(kek, pad), kek, pad ? RFC5649_IV : RFC3394_IV);
    return Buffer.concat([d.update(wrapped), d.final()]);
  } catch (err) {
    if (err instanceof KmipError) throw err;
    throw new KmipError('cryptographic_failure', 'the key could not be unwrapped');
  }
}
