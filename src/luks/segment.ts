/** The data segment, as the encrypted block device needs it. */
import { LuksError } from './errors.js';
import type { Luks2Header, Luks2Segment } from './metadata.js';

export interface SegmentInfo {
  /** Byte offset of the payload in the image. */
  readonly offset: number;
  /** Byte length of the payload, or 'dynamic': up to the end of the image. */
  readonly sizeBytes: number | 'dynamic';
  /** Added to the index of the 512-byte unit (from the payload start) to make the plain64 IV. */
  readonly ivTweak: number;
  /** Encryption sector size: 512, 1024, 2048 or 4096. */
  readonly sectorSize: number;
  /** dm-crypt cipher spec, e.g. "aes-xts-plain64". */
  readonly cipher: string;
}

function segment(header: Luks2Header, id: string): Luks2Segment {
  const s = Object.hasOwn(header.json.segments, id) ? header.json.segments[id] : undefined;
  if (s === undefined) throw new LuksError('schema_invalid', `the header has no segment ${id}`);
  return s;
}

export function segmentInfo(header: Luks2Header, id = '0'): SegmentInfo {
  const s = segment(header, id);
  return {
    offset: Number(s.offset),
    sizeBytes: s.size === 'dynamic' ? 'dynamic' : Number(s.size),
    ivTweak: Number(s.iv_tweak),
    sectorSize: s.sector_size,
    cipher: s.encryption,
  };
}

/** Byte offset of the payload (segment "0"). */
export function dataOffset(header: Luks2Header): number {
  return segmentInfo(header).offset;
}

/** The payload's length in an image of fileSize bytes. */
export function payloadSize(header: Luks2Header, fileSize: number): number {
  const info = segmentInfo(header);
  if (fileSize < info.offset) {
    throw new LuksError(
      'segment_out_of_bounds',
      `the image (${fileSize} bytes) ends before its data offset ${info.offset}`,
    );
  }
  if (info.sizeBytes === 'dynamic') return fileSize - info.offset;
  if (info.offset + info.sizeBytes > fileSize) {
    throw new LuksError(
      'segment_out_of_bounds',
      `segment 0 ends past the end of the image (${fileSize} bytes)`,
    );
  }
  return info.sizeBytes;
}
