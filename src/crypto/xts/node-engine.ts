/**
 * The pure-Node XTS engine: one createCipheriv per sector over Node's OpenSSL. Byte-identical to
 * the native engine, slower (a cipher object per sector), and on the main thread.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { CryptoError } from '../errors.js';
import { checkBatch, checkUnit, writePlain64 } from './batch.js';
import type { XtsBatchOptions, XtsEngine } from './engine.js';
import type { XtsKey } from './xts-key.js';

function cryptOne(encrypt: boolean, key: XtsKey, iv: Uint8Array, src: Uint8Array, dst: Uint8Array): void {
  key.use((k) => {
    let c;
    try {
      c = encrypt ? createCipheriv(key.cipher, k, iv) : createDecipheriv(key.cipher, k, iv);
    } catch (err) {
      throw new CryptoError('engine_failed', 'OpenSSL refused the XTS key', { cause: err });
    }
    c.setAutoPadding(false);
    const body = c.update(src);
    const tail = c.final();
    dst.set(body, 0);
    if (tail.length > 0) dst.set(tail, body.length);
  });
}

function batch(encrypt: boolean, key: XtsKey, data: Uint8Array, opts: XtsBatchOptions): void {
  const { sectors, unitsPerSector } = checkBatch(key, data, opts);
  const out = opts.out ?? data;
  const size = opts.sectorSize;
  const iv = Buffer.alloc(16);
  let unit = opts.firstUnit;
  const step = BigInt(unitsPerSector);
  for (let i = 0; i < sectors; i++) {
    writePlain64(unit, iv);
    const off = i * size;
    cryptOne(encrypt, key, iv, data.subarray(off, off + size), out.subarray(off, off + size));
    unit += step;
  }
}

function unit(encrypt: boolean, key: XtsKey, tweak16: Uint8Array, data: Uint8Array): Uint8Array {
  checkUnit(key, tweak16, data);
  const out = new Uint8Array(data.length);
  cryptOne(encrypt, key, tweak16, data, out);
  return out;
}

export const nodeXtsEngine: XtsEngine = Object.freeze({
  name: 'node' as const,
  encrypt: async (key: XtsKey, data: Uint8Array, opts: XtsBatchOptions): Promise<void> => batch(true, key, data, opts),
  decrypt: async (key: XtsKey, data: Uint8Array, opts: XtsBatchOptions): Promise<void> => batch(false, key, data, opts),
  encryptUnit: (key: XtsKey, tweak16: Uint8Array, data: Uint8Array): Uint8Array => unit(true, key, tweak16, data),
  decryptUnit: (key: XtsKey, tweak16: Uint8Array, data: Uint8Array): Uint8Array => unit(false, key, tweak16, data),
});
