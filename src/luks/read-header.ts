/**
 * Reading the metadata: both copies are checked (magic, fields, checksum, JSON schema); a valid
 * copy with the higher seqid wins; two valid copies with one seqid must be identical. When the
 * source is a file opened for writing, a stale or damaged copy is repaired from the winner.
 */
import { randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { decodeBinaryHeader, detectCopy, encodeCopy, jsonText, verifyChecksum } from './binary-header.js';
import type { BinaryHeader, HeaderCopy } from './binary-header.js';
import { LuksError } from './errors.js';
import { BINARY_HEADER_SIZE, VALID_HEADER_SIZES } from './layout.js';
import type { Luks2Header } from './metadata.js';
import { readAt, sizeOf, writeAt } from './source.js';
import type { LuksSource } from './source.js';
import { checkBounds, parseJsonText, validateJson } from './validate.js';

interface ValidCopy {
  readonly bin: BinaryHeader;
  readonly text: string;
  readonly header: Omit<Luks2Header, 'salts'>;
}

async function readCopy(src: LuksSource, copy: HeaderCopy, offset: number): Promise<ValidCopy> {
  const first = await readAt(src, offset, BINARY_HEADER_SIZE);
  const bin = decodeBinaryHeader(first, copy, offset);
  const area = await readAt(src, offset, bin.hdrSize);
  verifyChecksum(bin, area);
  const text = jsonText(bin, area);
  const json = validateJson(parseJsonText(text), bin.hdrSize);
  const { hdrSize, seqid, uuid, label, subsystem, checksumAlg } = bin;
  return { bin, text, header: { hdrSize, seqid, uuid, label, subsystem, checksumAlg, json } };
}

function asLuksError(err: unknown): LuksError {
  if (err instanceof LuksError) return err;
  return new LuksError('bad_header', 'the header could not be parsed', { cause: err });
}

/** The secondary copy's place: after a valid primary, else wherever a secondary magic is found. */
async function findSecondary(src: LuksSource, primary: ValidCopy | null): Promise<ValidCopy> {
  if (primary !== null) return readCopy(src, 'secondary', primary.bin.hdrSize);
  for (const offset of VALID_HEADER_SIZES) {
    const magic = await readAt(src, offset, 8);
    if (detectCopy(magic) === 'secondary') return readCopy(src, 'secondary', offset);
  }
  throw new LuksError('bad_magic', 'no LUKS2 secondary header magic at any of the offsets LUKS2 allows');
}

function sameContent(a: ValidCopy, b: ValidCopy): boolean {
  return (
    a.text === b.text &&
    a.bin.hdrSize === b.bin.hdrSize &&
    a.bin.uuid === b.bin.uuid &&
    a.bin.label === b.bin.label &&
    a.bin.subsystem === b.bin.subsystem &&
    a.bin.checksumAlg === b.bin.checksumAlg
  );
}

export type CopyState = 'ok' | 'stale' | LuksError;

export interface HeaderReport {
  readonly header: Luks2Header;
  /** Each copy as found: valid and current, valid but older (stale), or the error that disqualified it. */
  readonly primary: CopyState;
  readonly secondary: CopyState;
  /** The copy rewritten from the winner, when the source is a file and repair was on. */
  readonly repaired: HeaderCopy | null;
  /** Why a needed repair did not happen (e.g. the file is open read-only); the header is still good. */
  readonly repairError: LuksError | null;
}

function isFile(src: LuksSource): src is FileHandle {
  return !(src instanceof Uint8Array);
}

/**
 * Reads and checks both metadata copies; see HeaderReport. With `repair` (the default) and a file
 * source, a damaged or stale copy is rewritten from the winning one. A repair that fails (a file
 * opened read-only) does not fail the read: the report's repairError says why.
 */
export async function readLuks2HeaderReport(
  src: LuksSource,
  opts: { repair?: boolean } = {},
): Promise<HeaderReport> {
  const settle = async (p: Promise<ValidCopy>): Promise<ValidCopy | LuksError> => p.catch(asLuksError);
  const primary = await settle(readCopy(src, 'primary', 0));
  const secondary = await settle(findSecondary(src, primary instanceof LuksError ? null : primary));

  let winner: ValidCopy;
  let loser: HeaderCopy | null = null;
  if (primary instanceof LuksError && secondary instanceof LuksError) {
    throw primary.code === 'bad_magic' && secondary.code !== 'bad_magic' ? secondary : primary;
  } else if (primary instanceof LuksError) {
    winner = secondary as ValidCopy;
    loser = 'primary';
  } else if (secondary instanceof LuksError) {
    winner = primary;
    loser = 'secondary';
  } else if (primary.bin.seqid === secondary.bin.seqid) {
    if (!sameContent(primary, secondary)) {
      throw new LuksError(
        'copies_disagree',
        `the primary and secondary headers have one seqid (${primary.bin.seqid}) but differ`,
      );
    }
    winner = primary;
  } else {
    winner = primary.bin.seqid > secondary.bin.seqid ? primary : secondary;
    loser = winner === primary ? 'secondary' : 'primary';
  }

  const state = (copy: HeaderCopy, found: ValidCopy | LuksError): CopyState =>
    found instanceof LuksError ? found : loser === copy ? 'stale' : 'ok';
  const salts = {
    primary: primary instanceof LuksError ? randomBytes(64) : primary.bin.salt,
    secondary: secondary instanceof LuksError ? randomBytes(64) : secondary.bin.salt,
  };
  const header: Luks2Header = { ...winner.header, salts };
  checkBounds(header, await sizeOf(src));

  let repaired: HeaderCopy | null = null;
  let repairError: LuksError | null = null;
  if (loser !== null && isFile(src) && opts.repair !== false) {
    const bytes = encodeCopy({ ...winner.bin, copy: loser, salt: salts[loser] }, winner.text);
    try {
      await writeAt(src, loser === 'primary' ? 0 : winner.bin.hdrSize, bytes, true);
      repaired = loser;
    } catch (err) {
      repairError = asLuksError(err);
    }
  }
  return {
    header,
    primary: state('primary', primary),
    secondary: state('secondary', secondary),
    repaired,
    repairError,
  };
}

/** Reads the metadata of an image (see readLuks2HeaderReport). */
export async function readLuks2Header(
  src: LuksSource,
  opts: { repair?: boolean } = {},
): Promise<Luks2Header> {
  return (await readLuks2HeaderReport(src, opts)).header;
}
