/** Deterministic pseudo-random bytes for tests: AES-128-CTR keystream under a key made from a seed label. */
import { createCipheriv, createHash } from 'node:crypto';

export function seededBytes(seed: string, n: number): Buffer {
  const k = createHash('sha256').update(seed).digest();
  const c = createCipheriv('aes-128-ctr', k.subarray(0, 16), k.subarray(16, 32));
  return c.update(Buffer.alloc(n));
}
