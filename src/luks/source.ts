/** Where a header is read from: the image's bytes in memory, or an open file. */
import type { FileHandle } from 'node:fs/promises';
import { LuksError } from './errors.js';

/** An image: its bytes from offset 0 (at least the metadata and keyslots area), or an open file. */
export type LuksSource = Uint8Array | FileHandle;

function isBytes(src: LuksSource): src is Uint8Array {
  return src instanceof Uint8Array;
}

/** Reads up to len bytes at offset; the result is shorter when the image ends first. */
export async function readAt(src: LuksSource, offset: number, len: number): Promise<Buffer> {
  if (isBytes(src)) {
    const end = Math.min(src.length, offset + len);
    return Buffer.from(src.subarray(Math.min(offset, end), end));
  }
  const buf = Buffer.alloc(len);
  let done = 0;
  try {
    while (done < len) {
      const { bytesRead } = await src.read(buf, done, len - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
  } catch (cause) {
    throw new LuksError('io_failed', 'reading the image failed', { cause });
  }
  return buf.subarray(0, done);
}

export async function sizeOf(src: LuksSource): Promise<number> {
  if (isBytes(src)) return src.length;
  try {
    return (await src.stat()).size;
  } catch (cause) {
    throw new LuksError('io_failed', 'reading the image size failed', { cause });
  }
}

/** Writes all of data at offset, then (with sync) flushes it to the disk. */
export async function writeAt(
  fh: FileHandle,
  offset: number,
  data: Uint8Array,
  sync: boolean,
): Promise<void> {
  try {
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await fh.write(data, done, data.length - done, offset + done);
      done += bytesWritten;
    }
    if (sync) await fh.datasync();
  } catch (cause) {
    throw new LuksError('io_failed', 'writing the image failed', { cause });
  }
}
