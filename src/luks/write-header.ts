/**
 * Writing the metadata crash-safely: both copies get seqid + 1 and their own checksum; the primary
 * is written and flushed first, then the secondary. A crash in between leaves one valid copy with
 * the new seqid or the old one intact, and readLuks2Header picks the valid copy with the higher
 * seqid and repairs the other.
 */
import type { FileHandle } from 'node:fs/promises';
import { encodeCopy } from './binary-header.js';
import type { Luks2Header } from './metadata.js';
import { writeAt } from './source.js';
import { validateJson } from './validate.js';

/** Both copies of header with the given seqid: primary then secondary, 2 * hdrSize bytes. */
export function encodeHeader(header: Luks2Header, seqid: number): { primary: Buffer; secondary: Buffer } {
  const json = validateJson(header.json, header.hdrSize);
  const text = JSON.stringify(json);
  const base = { ...header, seqid };
  return {
    primary: encodeCopy({ ...base, copy: 'primary', salt: header.salts.primary }, text),
    secondary: encodeCopy({ ...base, copy: 'secondary', salt: header.salts.secondary }, text),
  };
}

export interface WriteOptions {
  /** Flush each copy to the disk before the next step (default true: power-loss safe). */
  readonly sync?: boolean;
}

/** Writes header with seqid + 1 to both copies and returns it as written. */
export async function writeLuks2Header(
  fh: FileHandle,
  header: Luks2Header,
  opts: WriteOptions = {},
): Promise<Luks2Header> {
  const seqid = header.seqid + 1;
  const { primary, secondary } = encodeHeader(header, seqid);
  const sync = opts.sync !== false;
  await writeAt(fh, 0, primary, sync);
  await writeAt(fh, header.hdrSize, secondary, sync);
  return { ...header, seqid };
}
