/**
 * Reads a sealed file chunk by chunk. Each chunk is released only after its tag verifies; a
 * truncated file is detected when the last chunk is reached, so a consumer must treat the data as
 * unauthenticated until the iteration completes without an error.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { gcmOpen } from './aes-gcm.js';
import type { SecretBytes } from './secret-bytes.js';
import {
  SEALED_MAX_CHUNKS,
  SEALED_MAX_HEADER,
  SEALED_TAG_BYTES,
  checkIdentity,
  chunkNonce,
  deriveFileKey,
  parseHeader,
  sealedInvalid,
  type SealedHeader,
  type SealedIdentity,
} from './sealed-format.js';

export interface SealedReader {
  readonly header: Pick<SealedHeader, 'purpose' | 'fileId' | 'chunkSize'>;
  /** The number of plaintext bytes the file holds (from its length; authenticated by the last chunk). */
  readonly plaintextLength: number;
  /** Yields each verified chunk's plaintext (a new buffer the caller owns); closes the file at the end. */
  chunks(): AsyncGenerator<Buffer, void, undefined>;
  close(): Promise<void>;
}

async function readExactly(fh: FileHandle, length: number, position: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, position + got);
    if (bytesRead === 0) throw sealedInvalid();
    got += bytesRead;
  }
  return buf;
}

/**
 * Opens a sealed file that must be the one named by `expect` (purpose and file id); a file sealed
 * for another purpose or id fails like a damaged one.
 */
export async function openSealedReader(key: SecretBytes, path: string, expect: SealedIdentity): Promise<SealedReader> {
  checkIdentity(expect);
  const fh = await open(path, 'r');
  let fileKey: SecretBytes | null = null;
  try {
    const size = (await fh.stat()).size;
    const head = await readExactly(fh, Math.min(size, SEALED_MAX_HEADER), 0);
    const header = parseHeader(head);
    if (header.purpose !== expect.purpose || header.fileId !== expect.fileId) throw sealedInvalid();
    const record = header.chunkSize + SEALED_TAG_BYTES;
    const body = size - header.bytes.length;
    const count = Math.max(1, Math.ceil(body / record));
    const lastLen = body - (count - 1) * record;
    if (lastLen < SEALED_TAG_BYTES || count > SEALED_MAX_CHUNKS) throw sealedInvalid();
    fileKey = deriveFileKey(key, expect, header.salt);
    const k = fileKey;
    let closed = false;
    const close = async (): Promise<void> => {
      if (closed) return;
      closed = true;
      k.dispose();
      await fh.close();
    };
    return {
      header: { purpose: header.purpose, fileId: header.fileId, chunkSize: header.chunkSize },
      plaintextLength: body - count * SEALED_TAG_BYTES,
      async *chunks() {
        try {
          for (let i = 0; i < count; i++) {
            const last = i === count - 1;
            const sealed = await readExactly(fh, last ? lastLen : record, header.bytes.length + i * record);
            const nonce = chunkNonce(header.noncePrefix, i, last);
            let plain: Buffer;
            try {
              plain = k.use((kb) => gcmOpen(kb, nonce, header.bytes, sealed));
            } catch {
              throw sealedInvalid();
            }
            yield plain;
          }
          // The file must not have grown while it was read.
          if ((await fh.stat()).size !== size) throw sealedInvalid();
        } finally {
          await close();
        }
      },
      close,
    };
  } catch (err) {
    fileKey?.dispose();
    await fh.close();
    throw err;
  }
}

/** Reads and verifies a whole sealed file into memory. */
export async function readSealedFile(key: SecretBytes, path: string, expect: SealedIdentity): Promise<Buffer> {
  const r = await openSealedReader(key, path, expect);
  const parts: Buffer[] = [];
  try {
    for await (const c of r.chunks()) parts.push(c);
  } catch (err) {
    for (const p of parts) p.fill(0);
    throw err;
  }
  const out = Buffer.concat(parts);
  for (const p of parts) p.fill(0);
  return out;
}
