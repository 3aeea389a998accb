/**
 * The KMS root key: 32 random bytes in `dataDir/root.key` (0600) that seal every object at rest.
 *
 * Sealed blob (version 1): `0x01 | rootKeyId (8) | nonce (12) | ciphertext | tag (16)`, AES-256-GCM
 * with associated data `0x01 | utf8(objectId)`, so a blob moved to another row fails to unseal.
 * The id of a key is the first 8 bytes of SHA-256("cryptvisor root key id" | key), in hex.
 *
 * Rotation keeps two files: `root.key` (current) and `root.key.next` (the new key). While both
 * exist, new blobs are sealed under the next key and blobs of either key unseal; renaming
 * `root.key.next` over `root.key` ends the rotation (see src/kms/store/rotate.ts).
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir } from '../common/atomic-write.js';
import { StoreError } from './store/errors.js';

export const ROOT_KEY_FILE = 'root.key';
export const ROOT_KEY_NEXT_FILE = 'root.key.next';
export const SEAL_VERSION = 1;

const KEY_BYTES = 32;
const ID_BYTES = 8;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + ID_BYTES + NONCE_BYTES;

interface KeyEntry {
  readonly id: string;
  readonly idBytes: Buffer;
  readonly key: Buffer;
}

function entryOf(key: Buffer): KeyEntry {
  const idBytes = createHash('sha256')
    .update('cryptvisor root key id')
    .update(key)
    .digest()
    .subarray(0, ID_BYTES);
  return { id: idBytes.toString('hex'), idBytes: Buffer.from(idBytes), key };
}

function sealAd(objectId: string): Buffer {
  return Buffer.concat([Buffer.of(SEAL_VERSION), Buffer.from(objectId, 'utf8')]);
}

/** Writes a new key file with mode 0600, fsync'd; refuses to overwrite. */
async function writeKeyFile(file: string, key: Buffer): Promise<void> {
  let fh;
  try {
    fh = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      throw new StoreError('root_key_exists', `a root key already exists: ${file}`);
    throw err;
  }
  try {
    await fh.writeFile(key);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function readKeyFile(file: string): Promise<Buffer | undefined> {
  let st;
  try {
    st = await stat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if ((st.mode & 0o077) !== 0) {
    throw new StoreError(
      'root_key_permissions',
      `root key file ${file} is readable by group or others (chmod 600 it)`,
    );
  }
  if (!st.isFile() || st.size !== KEY_BYTES)
    throw new StoreError('root_key_invalid', `root key file ${file} is not a 32-byte key`);
  const fh = await open(file, constants.O_RDONLY);
  try {
    const key = Buffer.alloc(KEY_BYTES);
    const { bytesRead } = await fh.read(key, 0, KEY_BYTES, 0);
    if (bytesRead !== KEY_BYTES)
      throw new StoreError('root_key_invalid', `root key file ${file} is not a 32-byte key`);
    return key;
  } finally {
    await fh.close();
  }
}

export class RootKey {
  readonly #dir: string | undefined;
  #current: KeyEntry;
  #next: KeyEntry | undefined;
  #disposed = false;

  private constructor(dir: string | undefined, current: KeyEntry, next: KeyEntry | undefined) {
    this.#dir = dir;
    this.#current = current;
    this.#next = next;
  }

  /** Creates `dataDir/root.key` (0600) from fresh random bytes; refuses if one exists. */
  static async create(dataDir: string): Promise<RootKey> {
    const key = Buffer.alloc(KEY_BYTES);
    randomBytes(KEY_BYTES).copy(key);
    await writeKeyFile(join(dataDir, ROOT_KEY_FILE), key);
    await fsyncDir(dataDir);
    return new RootKey(dataDir, entryOf(key), undefined);
  }

  /** Loads `dataDir/root.key` (and `root.key.next` if a rotation is pending); refuses group/other-readable files. */
  static async load(dataDir: string): Promise<RootKey> {
    const file = join(dataDir, ROOT_KEY_FILE);
    const current = await readKeyFile(file);
    if (!current) throw new StoreError('root_key_missing', `no root key at ${file}`);
    const next = await readKeyFile(join(dataDir, ROOT_KEY_NEXT_FILE));
    return new RootKey(dataDir, entryOf(current), next ? entryOf(next) : undefined);
  }

  /** A root key held only in memory (tests, tools); it cannot rotate. The bytes are copied. */
  static fromBytes(bytes: Uint8Array): RootKey {
    if (bytes.length !== KEY_BYTES) throw new StoreError('root_key_invalid', 'a root key is 32 bytes');
    return new RootKey(undefined, entryOf(Buffer.from(bytes)), undefined);
  }

  /** Copies the root key file(s) of one data dir into another (`kms init --join`), keeping 0600. */
  static async copy(fromDir: string, toDir: string): Promise<RootKey> {
    const src = await RootKey.load(fromDir);
    try {
      if (src.#next)
        throw new StoreError(
          'root_key_invalid',
          `a root key rotation is pending in ${fromDir}; finish it first`,
        );
      await writeKeyFile(join(toDir, ROOT_KEY_FILE), src.#current.key);
      await fsyncDir(toDir);
    } finally {
      src.dispose();
    }
    return RootKey.load(toDir);
  }

  /** The id of the key that new blobs are sealed under. */
  get id(): string {
    return this.#sealing().id;
  }

  /** Ids of every key held (current first). */
  get ids(): string[] {
    return this.#next ? [this.#current.id, this.#next.id] : [this.#current.id];
  }

  get rotationPending(): boolean {
    return this.#next !== undefined;
  }

  #sealing(): KeyEntry {
    if (this.#disposed) throw new StoreError('closed', 'root key disposed');
    return this.#next ?? this.#current;
  }

  #byId(id: string): KeyEntry {
    if (this.#disposed) throw new StoreError('closed', 'root key disposed');
    if (this.#next && this.#next.id === id) return this.#next;
    if (this.#current.id === id) return this.#current;
    throw new StoreError('root_key_unknown', `sealed under root key ${id}, which this KMS does not hold`);
  }

  /** Seals plaintext for one object id. */
  seal(objectId: string, plaintext: Uint8Array): Buffer {
    const k = this.#sealing();
    const nonce = randomBytes(NONCE_BYTES);
    const c = createCipheriv('aes-256-gcm', k.key, nonce);
    c.setAAD(sealAd(objectId));
    const ct = Buffer.concat([c.update(plaintext), c.final()]);
    return Buffer.concat([Buffer.of(SEAL_VERSION), k.idBytes, nonce, ct, c.getAuthTag()]);
  }

  /** The id of the key a blob names (no authentication: use to decide re-sealing only). */
  static blobKeyId(blob: Uint8Array): string {
    if (blob.length < HEADER_BYTES + TAG_BYTES || blob[0] !== SEAL_VERSION)
      throw new StoreError('unseal_failed', 'cannot unseal object');
    return Buffer.from(blob.subarray(1, 1 + ID_BYTES)).toString('hex');
  }

  /** Unseals a blob of this object id; any failure is StoreError('unseal_failed') with one message. */
  unseal(objectId: string, blob: Uint8Array): Buffer {
    const k = this.#byId(RootKey.blobKeyId(blob));
    const b = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
    try {
      const d = createDecipheriv('aes-256-gcm', k.key, b.subarray(1 + ID_BYTES, HEADER_BYTES));
      d.setAAD(sealAd(objectId));
      d.setAuthTag(b.subarray(b.length - TAG_BYTES));
      return Buffer.concat([d.update(b.subarray(HEADER_BYTES, b.length - TAG_BYTES)), d.final()]);
    } catch (err) {
      throw new StoreError('unseal_failed', 'cannot unseal object', { cause: err });
    }
  }

  /** A 32-byte key derived (HKDF-SHA256) from the root key `keyId` (default: the sealing key) for one purpose. */
  deriveKey(label: string, keyId?: string): Buffer {
    const k = keyId === undefined ? this.#sealing() : this.#byId(keyId);
    return Buffer.from(hkdfSync('sha256', k.key, 'cryptvisor-kms', label, 32));
  }

  /** Step 1 of rotation: writes `root.key.next` (fsync'd). From now on new blobs use it. */
  async beginRotation(): Promise<void> {
    if (!this.#dir) throw new StoreError('root_key_invalid', 'an in-memory root key cannot rotate');
    if (this.#next) return;
    const key = Buffer.alloc(KEY_BYTES);
    randomBytes(KEY_BYTES).copy(key);
    await writeKeyFile(join(this.#dir, ROOT_KEY_NEXT_FILE), key);
    await fsyncDir(this.#dir);
    this.#next = entryOf(key);
  }

  /** Last step of rotation (every blob is sealed under the next key): renames it over `root.key`. */
  async finishRotation(): Promise<void> {
    if (!this.#dir || !this.#next) return;
    await rename(join(this.#dir, ROOT_KEY_NEXT_FILE), join(this.#dir, ROOT_KEY_FILE));
    await fsyncDir(this.#dir);
    this.#current.key.fill(0);
    this.#current = this.#next;
    this.#next = undefined;
  }

  /** Abandons a pending rotation that sealed nothing yet (removes `root.key.next`). */
  async abortRotation(): Promise<void> {
    if (!this.#dir || !this.#next) return;
    await unlink(join(this.#dir, ROOT_KEY_NEXT_FILE));
    await fsyncDir(this.#dir);
    this.#next.key.fill(0);
    this.#next = undefined;
  }

  /** Zeroes the key bytes; the object is unusable afterwards. */
  dispose(): void {
    this.#current.key.fill(0);
    this.#next?.key.fill(0);
    this.#disposed = true;
  }

  toString(): string {
    return `RootKey(${this.#current.id})`;
  }

  toJSON(): { id: string } {
    return { id: this.#current.id };
  }
}
