/**
 * LUKS2 disk images as cryptvisor uses them (DESIGN.md §4): format, describe, open as a block
 * device, and the in-place conversions (raw → LUKS2, LUKS2 → raw, deep rekey) over the journal of
 * convert.ts. The offline disk tools and the host agent both stand on this file.
 */
import { randomUUID } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { wrapKey, unwrapKey, type SecretBytes } from '../crypto/index.js';
import {
  DEFAULT_DATA_OFFSET,
  DEFAULT_HEADER_SIZE,
  createLuks2Header,
  formatLuks2,
  getToken,
  readLuks2Header,
  segmentInfo,
  setToken,
  verifyVolumeKey,
  writeLuks2Header,
  type CryptvisorToken,
  type Luks2Header,
} from '../luks/index.js';
import { AlignedDevice, EncryptedDevice, FileDevice, type BlockDevice } from '../nbd/index.js';
import { assertNoConversion, decryptInPlace, encryptInPlace, rekeyInPlace } from './convert.js';
import { Journal } from './journal.js';
import { diskCipher, sectorTransform } from './engine-cipher.js';
import { DiskError } from './errors.js';

/** The version of the cryptvisor LUKS2 token format, bound into every wrapped DEK. */
export const TOKEN_FORMAT_VERSION = 1;

/** Where a disk's DEK is wrapped: the KEK, its provider and ID, and the disk's place. */
export interface KekBinding {
  readonly kek: SecretBytes;
  readonly keyProviderId: string;
  readonly keyId: string;
  /** The VM the disk belongs to; for a disk outside any VM, the LUKS2 UUID of the disk. */
  readonly vmUuid?: string;
  /** The disk's ID within the VM; defaults to the LUKS2 UUID. */
  readonly diskId?: string;
}

function wrapContext(b: Omit<KekBinding, 'kek'>, uuid: string) {
  return {
    formatVersion: TOKEN_FORMAT_VERSION,
    vmUuid: b.vmUuid ?? uuid,
    slot: `disk:${b.diskId ?? uuid}`,
    keyProviderId: b.keyProviderId,
    keyId: b.keyId,
  };
}

function makeToken(volumeKey: SecretBytes, uuid: string, binding: KekBinding | undefined): CryptvisorToken {
  if (!binding) return { keyProviderId: null, keyId: null, wrappedKey: null };
  return {
    keyProviderId: binding.keyProviderId,
    keyId: binding.keyId,
    wrappedKey: wrapKey(binding.kek, volumeKey, wrapContext(binding, uuid)),
  };
}

/** Unwraps the DEK of a disk from its token with the KEK (throws the uniform unwrap error on any mismatch). */
export function unwrapDiskKey(header: Luks2Header, kek: SecretBytes, place: { vmUuid?: string; diskId?: string } = {}): SecretBytes {
  const t = getToken(header);
  if (!t || !t.wrappedKey || !t.keyProviderId || !t.keyId) {
    throw new DiskError('wrong_key', 'the disk has no wrapped DEK in its cryptvisor token');
  }
  return unwrapKey(kek, t.wrappedKey, wrapContext({ keyProviderId: t.keyProviderId, keyId: t.keyId, ...place }, header.uuid));
}

async function headerBytes(volumeKey: SecretBytes, uuid: string, binding: KekBinding | undefined): Promise<Buffer> {
  const created = await createLuks2Header({ volumeKey, uuid, token: makeToken(volumeKey, uuid, binding) });
  const region = Buffer.alloc(created.header.hdrSize * 2);
  created.primary.copy(region, 0);
  created.secondary.copy(region, created.header.hdrSize);
  return region;
}

/** Parses header bytes taken out of an image (a journal copy) as if they stood at the image start. */
async function parseHeaderCopy(bytes: Buffer): Promise<Luks2Header> {
  const padded = Buffer.alloc(Math.max(bytes.length, DEFAULT_DATA_OFFSET));
  bytes.copy(padded);
  return readLuks2Header(padded, { repair: false });
}

async function checkKey(header: Luks2Header, key: SecretBytes, which: string): Promise<void> {
  try {
    await verifyVolumeKey(header, key);
  } catch (err) {
    throw new DiskError('wrong_key', `the ${which} key does not open this disk`, { cause: err });
  }
}

function checkSegment(header: Luks2Header): ReturnType<typeof segmentInfo> {
  const s = segmentInfo(header);
  if (s.cipher !== 'aes-xts-plain64' || s.sectorSize !== 4096) {
    throw new DiskError('image_invalid', `unsupported segment: ${s.cipher} with ${s.sectorSize}-byte sectors (need aes-xts-plain64, 4096)`);
  }
  return s;
}

export interface FormatOptions {
  readonly sizeBytes: number;
  readonly volumeKey: SecretBytes;
  readonly binding?: KekBinding;
  readonly uuid?: string;
}

/** Creates a new LUKS2 image with a sparse payload of exactly sizeBytes; refuses an existing file. */
export async function formatImage(path: string, opts: FormatOptions): Promise<Luks2Header> {
  if (!Number.isSafeInteger(opts.sizeBytes) || opts.sizeBytes <= 0 || opts.sizeBytes % 4096 !== 0) {
    throw new DiskError('image_invalid', 'the disk size must be a positive multiple of 4096 bytes');
  }
  const uuid = opts.uuid ?? randomUUID();
  try {
    return await formatLuks2(path, opts.sizeBytes, {
      volumeKey: opts.volumeKey,
      uuid,
      token: makeToken(opts.volumeKey, uuid, opts.binding),
    });
  } catch (err) {
    if (err instanceof Error && 'code' in err && err.code === 'image_exists') {
      throw new DiskError('image_exists', `${path} already exists; refusing to overwrite it`, { cause: err });
    }
    throw err;
  }
}

export interface ImageDescription {
  readonly path: string;
  readonly format: 'luks2';
  readonly uuid: string;
  readonly label: string;
  readonly cipher: string;
  readonly sectorSize: number;
  readonly dataOffset: number;
  readonly sizeBytes: number;
  readonly keyslots: readonly string[];
  readonly token: { keyProviderId: string | null; keyId: string | null; dekWrapped: boolean } | null;
}

/** What the header says, without any secret (the wrapped DEK is only reported as present). */
export async function describeImage(path: string): Promise<ImageDescription> {
  await assertNoConversion(path);
  const fh = await openExisting(path, 'r');
  try {
    const header = await readLuks2Header(fh, { repair: false });
    const s = segmentInfo(header);
    const size = (await fh.stat()).size;
    const t = getToken(header);
    return {
      path,
      format: 'luks2',
      uuid: header.uuid,
      label: header.label,
      cipher: s.cipher,
      sectorSize: s.sectorSize,
      dataOffset: s.offset,
      sizeBytes: s.sizeBytes === 'dynamic' ? size - s.offset : s.sizeBytes,
      keyslots: Object.keys(header.json.keyslots),
      token: t ? { keyProviderId: t.keyProviderId, keyId: t.keyId, dekWrapped: t.wrappedKey !== null } : null,
    };
  } finally {
    await fh.close();
  }
}

async function openExisting(path: string, flags: 'r' | 'r+') {
  try {
    return await open(path, flags);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new DiskError('image_not_found', `${path} does not exist`);
    throw err;
  }
}

/** Reads and validates an image's header (no key needed). */
export async function readImageHeader(path: string): Promise<Luks2Header> {
  await assertNoConversion(path);
  const fh = await openExisting(path, 'r');
  try {
    return await readLuks2Header(fh, { repair: false });
  } finally {
    await fh.close();
  }
}

export interface OpenedImage {
  readonly header: Luks2Header;
  /** The decrypted payload as a byte-addressable block device. */
  readonly device: BlockDevice;
  close(): Promise<void>;
}

/** Opens a LUKS2 image with its volume key as a block device of the plaintext payload. */
/**
 * Opens a LUKS2 image for I/O with its volume key, checked against the header's PBKDF2 digest.
 * `unwrappedFrom`: the header (already read) whose token gave volumeKey by an authenticated unwrap
 * (AES-GCM over the header's UUID and the disk's place): the key is then known to be this disk's,
 * and the digest check (a PBKDF2 run, tens of milliseconds, for cryptsetup's sake) is skipped.
 */
export async function openImage(
  path: string,
  volumeKey: SecretBytes,
  opts: { readOnly?: boolean; unwrappedFrom?: Luks2Header } = {},
): Promise<OpenedImage> {
  const header = opts.unwrappedFrom ?? (await readImageHeader(path));
  if (!opts.unwrappedFrom) await checkKey(header, volumeKey, 'volume');
  const s = checkSegment(header);
  const size = (await stat(path)).size;
  const payload = s.sizeBytes === 'dynamic' ? size - s.offset : s.sizeBytes;
  const file = await FileDevice.open(path, { offset: s.offset, size: payload, readOnly: opts.readOnly ?? false });
  const cipher = diskCipher(volumeKey);
  const device = new AlignedDevice(new EncryptedDevice(file, cipher, { ivTweak: BigInt(s.ivTweak) }));
  return { header, device, close: () => device.close() };
}

export interface ConvertOptions {
  readonly durable?: boolean;
  readonly chunkSize?: number;
  readonly onProgress?: (done: number, total: number) => void;
}

/** Turns a raw image into a LUKS2 image in place (or resumes doing so). */
export async function encryptImage(
  path: string,
  volumeKey: SecretBytes,
  opts: ConvertOptions & { binding?: KekBinding } = {},
): Promise<void> {
  await refuseOwnImage(path);
  const cipher = diskCipher(volumeKey);
  try {
    await encryptInPlace({
      path,
      durable: opts.durable ?? false,
      ...(opts.chunkSize ? { chunkSize: opts.chunkSize } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      encrypt: sectorTransform(cipher, 'encrypt'),
      makeHeader: () => headerBytes(volumeKey, randomUUID(), opts.binding),
      checkHeader: async (bytes) => checkKey(await parseHeaderCopy(bytes), volumeKey, 'volume'),
    });
  } finally {
    cipher.dispose();
  }
}

/**
 * Refuses to encrypt what already is a cryptvisor disk (say, a second run after a conversion that
 * completed just before its process was killed). A raw image whose guest put LUKS on the whole disk
 * has no cryptvisor token, and is encrypted as any raw image.
 */
async function refuseOwnImage(path: string): Promise<void> {
  const journal = await Journal.open(path, false);
  if (journal) {
    await journal.close();
    return; // an unfinished conversion: encryptInPlace resumes or refuses it
  }
  const fh = await openExisting(path, 'r');
  let token: CryptvisorToken | null = null;
  try {
    token = getToken(await readLuks2Header(fh, { repair: false }));
  } catch {
    return; // not a LUKS2 image
  } finally {
    await fh.close();
  }
  if (token) throw new DiskError('image_invalid', `${path} already is an encrypted cryptvisor disk`);
}

async function headerRegionSize(path: string): Promise<number> {
  const journal = await Journal.open(path, false);
  if (journal) {
    await journal.close();
    return DEFAULT_HEADER_SIZE * 2; // resuming: the header comes from the journal
  }
  const fh = await openExisting(path, 'r');
  try {
    return (await readLuks2Header(fh, { repair: false })).hdrSize * 2;
  } finally {
    await fh.close();
  }
}

function headerReader(path: string, key: SecretBytes, which: string) {
  return async (bytes: Buffer) => {
    const header = await parseHeaderCopy(bytes);
    await checkKey(header, key, which);
    const s = checkSegment(header);
    if (s.ivTweak !== 0) throw new DiskError('image_invalid', 'in-place conversion needs iv_tweak 0');
    const size = s.sizeBytes === 'dynamic' ? (await stat(path)).size - s.offset : s.sizeBytes;
    return { dataOffset: s.offset, payloadSize: size };
  };
}

/** Turns a LUKS2 image back into its raw image, byte for byte (or resumes doing so). */
export async function decryptImage(path: string, volumeKey: SecretBytes, opts: ConvertOptions = {}): Promise<void> {
  const hdrBytes = await headerRegionSize(path);
  const cipher = diskCipher(volumeKey);
  try {
    await decryptInPlace({
      path,
      durable: opts.durable ?? false,
      ...(opts.chunkSize ? { chunkSize: opts.chunkSize } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      headerBytes: hdrBytes,
      decrypt: sectorTransform(cipher, 'decrypt'),
      readHeader: headerReader(path, volumeKey, 'volume'),
    });
  } finally {
    cipher.dispose();
  }
}

/**
 * Deep rekey in place: new DEK, every sector re-encrypted. The disk keeps its UUID; keyslots of
 * the old key (escrow) are dropped, since they would open the old key only.
 */
export async function rekeyImage(
  path: string,
  oldKey: SecretBytes,
  newKey: SecretBytes,
  opts: ConvertOptions & { binding?: KekBinding } = {},
): Promise<void> {
  const hdrBytes = await headerRegionSize(path);
  const oldCipher = diskCipher(oldKey);
  const newCipher = diskCipher(newKey);
  let uuid: string | undefined;
  const readOld = headerReader(path, oldKey, 'old');
  try {
    await rekeyInPlace({
      path,
      durable: opts.durable ?? false,
      ...(opts.chunkSize ? { chunkSize: opts.chunkSize } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      headerBytes: hdrBytes,
      decrypt: sectorTransform(oldCipher, 'decrypt'),
      encrypt: sectorTransform(newCipher, 'encrypt'),
      readHeader: async (bytes) => {
        uuid = (await parseHeaderCopy(bytes)).uuid;
        return readOld(bytes);
      },
      makeHeader: () => headerBytes(newKey, uuid ?? randomUUID(), opts.binding),
      checkNewHeader: async (bytes) => checkKey(await parseHeaderCopy(bytes), newKey, 'new'),
    });
  } finally {
    oldCipher.dispose();
    newCipher.dispose();
  }
}

/**
 * The header an unfinished conversion will write (encrypt, rekey) or came from (decrypt): the
 * agent resumes a conversion after a restart by unwrapping the DEK from this header's token.
 */
export async function pendingConversionHeader(path: string): Promise<{ op: string; header: Luks2Header } | undefined> {
  const journal = await Journal.open(path, false);
  if (!journal) return undefined;
  try {
    const rec = journal.record;
    if (!rec) return undefined;
    const blob = rec.op === 'rekey' ? 'newHeader' : 'header';
    return { op: rec.op, header: await parseHeaderCopy(await journal.readBlob(blob)) };
  } finally {
    await journal.close();
  }
}

/** For a resumed rekey: the header the conversion started from. */
export async function pendingOldHeader(path: string): Promise<Luks2Header | undefined> {
  const journal = await Journal.open(path, false);
  if (!journal) return undefined;
  try {
    return journal.record?.op === 'rekey' ? await parseHeaderCopy(await journal.readBlob('oldHeader')) : undefined;
  } finally {
    await journal.close();
  }
}

/**
 * Shallow rekey of one disk: the DEK is unwrapped with the old KEK and wrapped again under the new
 * binding; only the token changes, no data is rewritten. Both header copies are rewritten in turn,
 * so a crash leaves either the old or the new token, each of which names its own KEK.
 */
export async function rewrapImage(
  path: string,
  oldKek: SecretBytes,
  binding: KekBinding,
  place: { vmUuid?: string; diskId?: string } = {},
): Promise<void> {
  await assertNoConversion(path);
  const fh = await openExisting(path, 'r+');
  try {
    const header = await readLuks2Header(fh);
    const dek = unwrapDiskKey(header, oldKek, place);
    try {
      await writeLuks2Header(fh, setToken(header, makeToken(dek, header.uuid, binding)));
    } finally {
      dek.dispose();
    }
  } finally {
    await fh.close();
  }
}

/** The cryptvisor token of an image (which KEK wraps its DEK), without any secret. */
export async function imageToken(path: string): Promise<CryptvisorToken | null> {
  return getToken(await readImageHeader(path));
}
