/**
 * Fixtures for the tests of src/luks and test/luks (not exported from index.ts): fixed keys,
 * temporary images, and headers re-encoded with hand-made JSON and valid checksums.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretBytes } from '../crypto/index.js';
import { encodeCopy } from './binary-header.js';
import { createLuks2Header } from './create-header.js';
import type { CreatedHeader } from './create-header.js';
import { DEFAULT_DATA_OFFSET } from './layout.js';
import type { Luks2Header } from './metadata.js';

/** A deterministic 64-byte key with two different halves, derived from a label. */
export function fixedKey(label: string): SecretBytes {
  const a = createHash('sha256').update(`${label}/xts-1`).digest();
  const b = createHash('sha256').update(`${label}/xts-2`).digest();
  const key = SecretBytes.from(Buffer.concat([a, b]), { zeroSource: true });
  a.fill(0);
  b.fill(0);
  return key;
}

export function secret(text: string): SecretBytes {
  return SecretBytes.from(Buffer.from(text, 'utf8'), { zeroSource: true });
}

export const TEST_TOKEN = { keyProviderId: 'kms-1', keyId: 'key-0001', wrappedKey: 'd3JhcHBlZA==' } as const;

/** A header for key with cheap digest iterations. */
export function testHeader(key: SecretBytes, extra: { payloadSize?: number } = {}): Promise<CreatedHeader> {
  return createLuks2Header({ volumeKey: key, token: TEST_TOKEN, digestIterations: 1000, ...extra });
}

/** The image bytes of a header: both copies plus an empty payload (dataOffset bytes in all). */
export function imageBytes(created: { primary: Buffer; secondary: Buffer }, payload = 0): Buffer {
  const img = Buffer.alloc(DEFAULT_DATA_OFFSET + payload);
  created.primary.copy(img, 0);
  created.secondary.copy(img, created.primary.length);
  return img;
}

/** Re-encodes one copy in place in img with arbitrary JSON text and a valid checksum. */
export function rewriteCopy(
  img: Buffer,
  header: Luks2Header,
  copy: 'primary' | 'secondary',
  jsonText: string,
  seqid = header.seqid,
): void {
  const salt = header.salts[copy];
  const bytes = encodeCopy({ ...header, copy, seqid, salt }, jsonText);
  bytes.copy(img, copy === 'primary' ? 0 : header.hdrSize);
}

/** A temporary directory, removed by the returned cleanup. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'cryptvisor-luks-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes img to a new file and opens it read-write. */
export async function imageFile(dir: string, name: string, img: Uint8Array): Promise<FileHandle> {
  const fh = await open(join(dir, name), 'w+', 0o600);
  await fh.write(img, 0, img.length, 0);
  return fh;
}
