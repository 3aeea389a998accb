/**
 * A sector transform over Node's own aes-256-xts, one cipher call per 4096-byte sector with the
 * plain64 IV (512-byte unit index, little-endian). Test support for the conversion engine.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';

export function xtsTransform(key: Buffer, direction: 'encrypt' | 'decrypt') {
  return async (data: Buffer, firstUnit: bigint): Promise<void> => {
    const iv = Buffer.alloc(16);
    for (let at = 0; at < data.length; at += 4096) {
      iv.writeBigUInt64LE(firstUnit + BigInt(at / 512), 0);
      const c = direction === 'encrypt' ? createCipheriv('aes-256-xts', key, iv) : createDecipheriv('aes-256-xts', key, iv);
      const sector = data.subarray(at, at + 4096);
      const out = c.update(sector);
      c.final();
      out.copy(sector);
    }
  };
}
