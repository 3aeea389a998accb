/**
 * Writes a sealed file in one pass (write-once): to a temporary file beside the target, renamed
 * over the target by finish(). A sealed file is never rewritten in place (that would reuse nonces);
 * to change one, write a new one.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CryptoError } from './errors.js';
import { gcmSeal } from './aes-gcm.js';
import type { SecretBytes } from './secret-bytes.js';
import {
  SEALED_DEFAULT_CHUNK_LOG2,
  SEALED_MAX_CHUNKS,
  SEALED_MAX_CHUNK_LOG2,
  SEALED_MIN_CHUNK_LOG2,
  SEALED_PREFIX_BYTES,
  SEALED_SALT_BYTES,
  checkIdentity,
  chunkNonce,
  deriveFileKey,
  encodeHeader,
  type SealedIdentity,
} from './sealed-format.js';

export interface SealedWriterOptions extends SealedIdentity {
  /** log2 of the chunk size, 12 to 24 (default 16: 64 KiB). */
  readonly chunkSizeLog2?: number;
  /** fsync the file and its directory in finish(), so the file survives a power loss (default false). */
  readonly fsync?: boolean;
  /** File mode of the new file (default 0o600). */
  readonly mode?: number;
}

export interface SealedWriter {
  /** Appends plaintext; the writer copies what it keeps, so data may be reused once this resolves. */
  write(data: Uint8Array): Promise<void>;
  /** Seals the last chunk, closes, and renames the file over the target. */
  finish(): Promise<void>;
  /** Drops the temporary file; the target is untouched. */
  abort(): Promise<void>;
  /** Plaintext bytes written so far. */
  readonly bytesWritten: number;
}

async function fsyncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

export async function createSealedWriter(key: SecretBytes, path: string, opts: SealedWriterOptions): Promise<SealedWriter> {
  const id: SealedIdentity = { purpose: opts.purpose, fileId: opts.fileId };
  checkIdentity(id);
  const log2 = opts.chunkSizeLog2 ?? SEALED_DEFAULT_CHUNK_LOG2;
  if (!Number.isInteger(log2) || log2 < SEALED_MIN_CHUNK_LOG2 || log2 > SEALED_MAX_CHUNK_LOG2) {
    throw new CryptoError('argument_invalid', `chunkSizeLog2 must be ${SEALED_MIN_CHUNK_LOG2} to ${SEALED_MAX_CHUNK_LOG2}`);
  }
  const chunkSize = 2 ** log2;
  const salt = randomBytes(SEALED_SALT_BYTES);
  const prefix = randomBytes(SEALED_PREFIX_BYTES);
  const header = encodeHeader(id, log2, salt, prefix);
  const fileKey = deriveFileKey(key, id, salt);
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let fh: FileHandle | null;
  try {
    fh = await open(tmp, 'wx', opts.mode ?? 0o600);
  } catch (err) {
    fileKey.dispose();
    throw err;
  }
  const pending = Buffer.allocUnsafeSlow(chunkSize);
  let fill = 0;
  let index = 0;
  let total = 0;
  let state: 'open' | 'busy' | 'done' = 'open';

  const enter = (): FileHandle => {
    if (state !== 'open' || fh === null) throw new CryptoError('sealed_state', `the sealed writer is ${state === 'busy' ? 'busy' : 'finished'}`);
    state = 'busy';
    return fh;
  };

  async function sealChunk(h: FileHandle, last: boolean): Promise<void> {
    if (index >= SEALED_MAX_CHUNKS) throw new CryptoError('length_invalid', 'a sealed file holds at most 2^32 chunks');
    const nonce = chunkNonce(prefix, index, last);
    const sealed = fileKey.use((k) => gcmSeal(k, nonce, header, pending.subarray(0, fill)));
    await h.write(sealed);
    index += 1;
    fill = 0;
  }

  async function cleanup(): Promise<void> {
    state = 'done';
    pending.fill(0);
    fileKey.dispose();
    const h = fh;
    fh = null;
    if (h !== null) await h.close().catch(() => undefined);
  }

  try {
    await fh.write(header);
  } catch (err) {
    await cleanup();
    await unlink(tmp).catch(() => undefined);
    throw err;
  }

  return {
    get bytesWritten() {
      return total;
    },
    async write(data: Uint8Array): Promise<void> {
      const h = enter();
      try {
        let off = 0;
        while (off < data.length) {
          // A full chunk is sealed only once more data follows, so the last chunk is always known.
          if (fill === chunkSize) await sealChunk(h, false);
          const n = Math.min(chunkSize - fill, data.length - off);
          pending.set(data.subarray(off, off + n), fill);
          fill += n;
          off += n;
          total += n;
        }
        state = 'open';
      } catch (err) {
        await cleanup();
        await unlink(tmp).catch(() => undefined);
        throw err;
      }
    },
    async finish(): Promise<void> {
      const h = enter();
      try {
        await sealChunk(h, true);
        if (opts.fsync === true) await h.sync();
        await cleanup();
        await rename(tmp, path);
        if (opts.fsync === true) await fsyncDir(dirname(path));
      } catch (err) {
        await cleanup();
        await unlink(tmp).catch(() => undefined);
        throw err;
      }
    },
    async abort(): Promise<void> {
      if (state === 'done') return;
      await cleanup();
      await unlink(tmp).catch(() => undefined);
    },
  };
}
