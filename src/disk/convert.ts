/**
 * In-place conversions of a disk image between raw and LUKS2, and deep rekey, crash-safe.
 *
 * A LUKS2 image is `[0, dataOffset)` header and keyslots area, then the payload. The payload is the
 * raw image's bytes, encrypted in 4096-byte sectors, so the file grows by dataOffset (16 MiB).
 *
 * - encrypt: chunks go from the last to the first; chunk i is read at its raw offset o and its
 *   ciphertext written at dataOffset + o. With chunks no larger than dataOffset the write never
 *   touches a source that is not yet done, so redoing the chunk named by the journal is always
 *   safe. The header region is written last, over what remains of the raw head.
 * - decrypt: the mirror image, from the first chunk to the last, then the file is truncated.
 * - rekey: in place; the old ciphertext of the chunk being rewritten is saved in the journal
 *   first, so a torn chunk is restored and redone.
 *
 * "Crash-safe" means a process crash (kill -9): completed writes sit in the page cache. With
 * `durable: true` every checkpoint is fsync'd, which also survives power loss (slower).
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import { DiskError } from './errors.js';
import { Journal, journalPath, type JournalRecord } from './journal.js';

export const SECTOR = 4096;
export const DEFAULT_DATA_OFFSET = 16 * 1024 * 1024;
export const DEFAULT_CHUNK = 4 * 1024 * 1024;

/** Encrypts or decrypts whole 4096-byte sectors in place; firstUnit is the 512-byte unit index in the payload. */
export type SectorTransform = (data: Buffer, firstUnit: bigint) => Promise<void>;

export interface ConversionOptions {
  readonly path: string;
  /** fsync at every checkpoint (survives power loss), default false (survives a process crash). */
  readonly durable?: boolean;
  readonly chunkSize?: number;
  readonly onProgress?: (doneBytes: number, totalBytes: number) => void;
}

export interface EncryptOptions extends ConversionOptions {
  readonly encrypt: SectorTransform;
  /** Builds the bytes of the header region for a fresh conversion (at most dataOffset bytes). */
  readonly makeHeader: (payloadSize: number) => Promise<Buffer> | Buffer;
  /** Checks, on resume, that the journalled header matches the key given now (throws if not). */
  readonly checkHeader: (header: Buffer) => Promise<void> | void;
  readonly dataOffset?: number;
}

export interface DecryptOptions extends ConversionOptions {
  readonly decrypt: SectorTransform;
  /** Reads and checks the header of the image: returns its data offset and payload size. */
  readonly readHeader: (header: Buffer) => Promise<{ dataOffset: number; payloadSize: number }>;
  readonly headerBytes: number;
}

export interface RekeyOptions extends ConversionOptions {
  readonly decrypt: SectorTransform;
  readonly encrypt: SectorTransform;
  readonly readHeader: (header: Buffer) => Promise<{ dataOffset: number; payloadSize: number }>;
  readonly makeHeader: (payloadSize: number) => Promise<Buffer> | Buffer;
  readonly checkNewHeader: (header: Buffer) => Promise<void> | void;
  readonly headerBytes: number;
}

/** Refuses an image whose conversion did not finish: only the same conversion may resume it. */
export async function assertNoConversion(image: string): Promise<void> {
  const j = await Journal.open(image, false);
  if (!j) return;
  const op = j.record?.op;
  await j.close();
  if (op) {
    throw new DiskError(
      'conversion_unfinished',
      `${image}: a "disk ${op}" conversion is unfinished; run the same command again to resume it`,
    );
  }
}

async function readExact(fh: FileHandle, buf: Buffer, length: number, position: number): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) throw new DiskError('image_invalid', 'unexpected end of image');
    done += bytesRead;
  }
}

async function writeExact(fh: FileHandle, buf: Buffer, length: number, position: number): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesWritten } = await fh.write(buf, done, length - done, position + done);
    done += bytesWritten;
  }
}

function chunkCount(payloadSize: number, chunk: number): number {
  return Math.ceil(payloadSize / chunk);
}

function checkChunk(chunk: number, dataOffset: number): void {
  if (chunk <= 0 || chunk % SECTOR !== 0 || chunk > dataOffset) {
    throw new DiskError('image_invalid', `chunk size must be a multiple of ${SECTOR} no larger than the data offset`);
  }
}

/** The journal of an unfinished `op` to resume, or undefined to start afresh. */
async function openJournal(path: string, op: JournalRecord['op'], durable: boolean): Promise<Journal | undefined> {
  const j = await Journal.open(path, durable);
  if (!j) return undefined;
  if (!j.record) {
    // Created but never committed: nothing was changed yet.
    await j.remove();
    return undefined;
  }
  if (j.record.op !== op) {
    const other = j.record.op;
    await j.close();
    throw new DiskError('conversion_unfinished', `${path}: a "disk ${other}" conversion is unfinished; resume it first`);
  }
  return j;
}

async function writeHeaderRegion(fh: FileHandle, header: Buffer, dataOffset: number): Promise<void> {
  if (header.length > dataOffset) throw new DiskError('image_invalid', 'header larger than the data offset');
  const region = Buffer.alloc(Math.min(dataOffset, DEFAULT_CHUNK));
  for (let at = 0; at < dataOffset; at += region.length) {
    region.fill(0);
    if (at < header.length) header.copy(region, 0, at, Math.min(header.length, at + region.length));
    await writeExact(fh, region, Math.min(region.length, dataOffset - at), at);
  }
}

/** Turns a raw image into a LUKS2 image in place; resumes an unfinished run. */
export async function encryptInPlace(opts: EncryptOptions): Promise<void> {
  const durable = opts.durable ?? false;
  const dataOffset = opts.dataOffset ?? DEFAULT_DATA_OFFSET;
  const chunk = opts.chunkSize ?? DEFAULT_CHUNK;
  checkChunk(chunk, dataOffset);
  let journal = await openJournal(opts.path, 'encrypt', durable);
  let rec: JournalRecord;
  let header: Buffer;
  if (journal?.record) {
    rec = journal.record;
    header = await journal.readBlob('header');
    await opts.checkHeader(header);
  } else {
    const size = (await stat(opts.path)).size;
    if (size === 0 || size % SECTOR !== 0) {
      throw new DiskError('image_invalid', `${opts.path}: a raw image must be a positive multiple of ${SECTOR} bytes`);
    }
    header = await opts.makeHeader(size);
    journal = await Journal.create(opts.path, durable);
    const blob = await journal.writeBlob(0, header);
    rec = {
      op: 'encrypt',
      version: 1,
      payloadSize: size,
      dataOffset,
      chunkSize: chunk,
      next: chunkCount(size, chunk),
      phase: 'run',
      blobs: { header: blob },
    };
    await journal.commit(rec);
  }
  const fh = await open(opts.path, 'r+');
  try {
    const { payloadSize } = rec;
    await fh.truncate(rec.dataOffset + payloadSize);
    const buf = Buffer.allocUnsafe(rec.chunkSize);
    while (rec.phase === 'run' && rec.next > 0) {
      const i = rec.next - 1;
      const off = i * rec.chunkSize;
      const len = Math.min(rec.chunkSize, payloadSize - off);
      const data = buf.subarray(0, len);
      await readExact(fh, data, len, off);
      await opts.encrypt(data, BigInt(off / 512));
      await writeExact(fh, data, len, rec.dataOffset + off);
      if (durable) await fh.datasync();
      rec = { ...rec, next: i };
      await journal.commit(rec);
      opts.onProgress?.(payloadSize - off, payloadSize);
    }
    buf.fill(0);
    if (rec.phase === 'run') {
      rec = { ...rec, phase: 'finalize' };
      await journal.commit(rec);
    }
    await writeHeaderRegion(fh, header, rec.dataOffset);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await journal.remove();
}

/** What a fresh (not resumed) decrypt or rekey reads first: the image's header and its geometry. */
interface FreshStart {
  readonly header: Buffer;
  readonly dataOffset: number;
  readonly payloadSize: number;
  readonly chunk: number;
}

async function readFreshStart(
  fh: FileHandle,
  opts: Pick<DecryptOptions, 'headerBytes' | 'readHeader' | 'chunkSize'>,
): Promise<FreshStart> {
  const header = Buffer.alloc(opts.headerBytes);
  await readExact(fh, header, opts.headerBytes, 0);
  const { dataOffset, payloadSize } = await opts.readHeader(header);
  const chunk = Math.min(opts.chunkSize ?? DEFAULT_CHUNK, dataOffset);
  checkChunk(chunk, dataOffset);
  return { header, dataOffset, payloadSize, chunk };
}

/** Turns a LUKS2 image back into the raw image, byte for byte; resumes an unfinished run. */
export async function decryptInPlace(opts: DecryptOptions): Promise<void> {
  const durable = opts.durable ?? false;
  let journal = await openJournal(opts.path, 'decrypt', durable);
  const fh = await open(opts.path, 'r+');
  try {
    let rec: JournalRecord;
    if (journal?.record) {
      rec = journal.record;
      await opts.readHeader(await journal.readBlob('header'));
    } else {
      const { header, dataOffset, payloadSize, chunk } = await readFreshStart(fh, opts);
      journal = await Journal.create(opts.path, durable);
      const blob = await journal.writeBlob(0, header);
      rec = {
        op: 'decrypt',
        version: 1,
        payloadSize,
        dataOffset,
        chunkSize: chunk,
        next: 0,
        phase: 'run',
        blobs: { header: blob },
      };
      await journal.commit(rec);
    }
    const { payloadSize } = rec;
    const total = chunkCount(payloadSize, rec.chunkSize);
    const buf = Buffer.allocUnsafe(rec.chunkSize);
    while (rec.phase === 'run' && rec.next < total) {
      const i = rec.next;
      const off = i * rec.chunkSize;
      const len = Math.min(rec.chunkSize, payloadSize - off);
      const data = buf.subarray(0, len);
      await readExact(fh, data, len, rec.dataOffset + off);
      await opts.decrypt(data, BigInt(off / 512));
      await writeExact(fh, data, len, off);
      if (durable) await fh.datasync();
      rec = { ...rec, next: i + 1 };
      await journal.commit(rec);
      opts.onProgress?.(Math.min(payloadSize, (i + 1) * rec.chunkSize), payloadSize);
    }
    buf.fill(0);
    await fh.truncate(payloadSize);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await journal.remove();
}

/** Deep rekey in place: every sector decrypted with the old key and encrypted with the new one. */
export async function rekeyInPlace(opts: RekeyOptions): Promise<void> {
  const durable = opts.durable ?? false;
  let journal = await openJournal(opts.path, 'rekey', durable);
  const fh = await open(opts.path, 'r+');
  try {
    let rec: JournalRecord;
    if (journal?.record) {
      rec = journal.record;
      await opts.readHeader(await journal.readBlob('oldHeader'));
      await opts.checkNewHeader(await journal.readBlob('newHeader'));
    } else {
      const { header: oldHeader, dataOffset, payloadSize, chunk } = await readFreshStart(fh, opts);
      const newHeader = await opts.makeHeader(payloadSize);
      journal = await Journal.create(opts.path, durable);
      const oldBlob = await journal.writeBlob(0, oldHeader);
      const newBlob = await journal.writeBlob(dataOffset, newHeader);
      rec = {
        op: 'rekey',
        version: 1,
        payloadSize,
        dataOffset,
        chunkSize: chunk,
        next: 0,
        phase: 'run',
        saved: false,
        blobs: { oldHeader: oldBlob, newHeader: newBlob },
      };
      await journal.commit(rec);
    }
    const { payloadSize } = rec;
    const total = chunkCount(payloadSize, rec.chunkSize);
    const buf = Buffer.allocUnsafe(rec.chunkSize);
    const chunkBlobAt = 2 * rec.dataOffset;
    while (rec.phase === 'run' && rec.next < total) {
      const i = rec.next;
      const off = i * rec.chunkSize;
      const len = Math.min(rec.chunkSize, payloadSize - off);
      const data = buf.subarray(0, len);
      if (rec.saved) {
        // A crash may have torn the rewrite of this chunk: restore its old ciphertext first.
        (await journal.readBlob('chunk')).copy(data);
        await writeExact(fh, data, len, rec.dataOffset + off);
      } else {
        await readExact(fh, data, len, rec.dataOffset + off);
        const blob = await journal.writeBlob(chunkBlobAt, data);
        rec = { ...rec, saved: true, blobs: { ...rec.blobs, chunk: blob } };
        await journal.commit(rec);
      }
      const unit = BigInt(off / 512);
      await opts.decrypt(data, unit);
      await opts.encrypt(data, unit);
      await writeExact(fh, data, len, rec.dataOffset + off);
      if (durable) await fh.datasync();
      rec = { ...rec, next: i + 1, saved: false };
      await journal.commit(rec);
      opts.onProgress?.(Math.min(payloadSize, (i + 1) * rec.chunkSize), payloadSize);
    }
    buf.fill(0);
    if (rec.phase === 'run') {
      rec = { ...rec, phase: 'finalize' };
      await journal.commit(rec);
    }
    await writeHeaderRegion(fh, await journal.readBlob('newHeader'), rec.dataOffset);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await journal.remove();
}

export { journalPath };
