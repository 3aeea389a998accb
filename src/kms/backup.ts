/**
 * KMS backup and restore (docs/kms-storage.md).
 *
 * File (version 1): `"CVKMSBAK" | 0x01 | rootKeyId (8) | salt (16) | nonce (12) | ciphertext | tag (16)`.
 * The whole body is AES-256-GCM under HKDF(root key, "backup-file v1" | salt) with the header as
 * associated data, so a changed byte anywhere fails. Inside, a JSON document lists every object of one
 * consistent snapshot; each object's material is sealed again under HKDF(root key, "backup-object
 * v1" | salt) with the object id as associated data. Restoring needs the same root key.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../common/atomic-write.js';
import { RootKey } from './root-key.js';
import { StoreError } from './store/errors.js';
import { openStore } from './store/open.js';
import type { KmsStore, StoredObject } from './store/types.js';

const MAGIC = Buffer.from('CVKMSBAK', 'ascii');
const VERSION = 1;
const ID_BYTES = 8;
const SALT_BYTES = 16;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = MAGIC.length + 1 + ID_BYTES + SALT_BYTES + NONCE_BYTES;
const FORMAT = 'cryptvisor-kms-backup';
const RESTORE_CHUNK = 256;

/** Either an open store and its root key, or a data dir (and database URL) to open them from. */
export type StoreSource =
  | { readonly store: KmsStore; readonly rootKey: RootKey }
  | { readonly dataDir: string; readonly database?: string };

export interface BackupResult {
  readonly file: string;
  readonly objects: number;
  readonly rootKeyId: string;
  readonly bytes: number;
}

export interface RestoreResult {
  readonly file: string;
  readonly objects: number;
}

/** An object in the backup document: its material sealed under the backup object key, base64. */
interface BackupObject extends Omit<StoredObject, 'material'> {
  readonly material: string | null;
}

interface BackupDocument {
  readonly format: string;
  readonly version: number;
  readonly createdAt: string;
  readonly objects: readonly BackupObject[];
}

function gcmSeal(key: Buffer, ad: Buffer, plain: Uint8Array): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(ad);
  const ct = Buffer.concat([c.update(plain), c.final()]);
  return Buffer.concat([nonce, ct, c.getAuthTag()]);
}

function gcmOpen(key: Buffer, ad: Buffer, sealed: Buffer): Buffer {
  if (sealed.length < NONCE_BYTES + TAG_BYTES) throw new Error('short');
  const d = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, NONCE_BYTES));
  d.setAAD(ad);
  d.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  return Buffer.concat([d.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES)), d.final()]);
}

async function withSource<T>(
  src: StoreSource,
  fn: (store: KmsStore, rootKey: RootKey) => Promise<T>,
): Promise<T> {
  if ('store' in src) return fn(src.store, src.rootKey);
  const rootKey = await RootKey.load(src.dataDir);
  try {
    const store = await openStore({
      dataDir: src.dataDir,
      rootKey,
      ...(src.database ? { database: src.database } : {}),
    });
    try {
      return await fn(store, rootKey);
    } finally {
      await store.close();
    }
  } finally {
    rootKey.dispose();
  }
}

/** Writes a consistent, sealed and authenticated backup of every object to `outFile` (atomically, 0600). */
export async function backup(src: StoreSource, outFile: string): Promise<BackupResult> {
  return withSource(src, async (store, rootKey) => {
    const keyId = rootKey.id;
    const salt = randomBytes(SALT_BYTES);
    const fileKey = rootKey.deriveKey(`backup-file v1 ${salt.toString('hex')}`, keyId);
    const objKey = rootKey.deriveKey(`backup-object v1 ${salt.toString('hex')}`, keyId);
    try {
      const objects: BackupObject[] = [];
      for await (const o of store.all()) {
        let material: string | null = null;
        if (o.material) {
          material = gcmSeal(objKey, Buffer.from(o.id, 'utf8'), o.material).toString('base64');
          o.material.fill(0);
        }
        const { material: _m, ...meta } = o;
        objects.push({ ...meta, material });
      }
      const doc: BackupDocument = {
        format: FORMAT,
        version: VERSION,
        createdAt: new Date().toISOString(),
        objects,
      };
      const nonce = randomBytes(NONCE_BYTES);
      const header = Buffer.concat([MAGIC, Buffer.of(VERSION), Buffer.from(keyId, 'hex'), salt, nonce]);
      const c = createCipheriv('aes-256-gcm', fileKey, nonce);
      c.setAAD(header);
      const body = Buffer.concat([c.update(JSON.stringify(doc), 'utf8'), c.final(), c.getAuthTag()]);
      const data = Buffer.concat([header, body]);
      await writeFileAtomic(outFile, data, { mode: 0o600 });
      return { file: outFile, objects: objects.length, rootKeyId: keyId, bytes: data.length };
    } finally {
      fileKey.fill(0);
      objKey.fill(0);
    }
  });
}

function invalid(msg = 'the backup file is damaged or was not made with this root key'): StoreError {
  return new StoreError('backup_invalid', msg);
}

function checkObject(o: unknown): BackupObject {
  const b = o as BackupObject;
  if (
    typeof o !== 'object' ||
    o === null ||
    typeof b.id !== 'string' ||
    typeof b.objectType !== 'string' ||
    typeof b.state !== 'string' ||
    typeof b.owner !== 'string' ||
    !Array.isArray(b.names) ||
    (b.algorithm !== null && typeof b.algorithm !== 'string') ||
    typeof b.revision !== 'number' ||
    (b.material !== null && typeof b.material !== 'string')
  ) {
    throw invalid('the backup file holds a malformed object');
  }
  return b;
}

/** Restores a backup into an empty store that has the root key the backup was made under. */
export async function restore(dst: StoreSource, inFile: string): Promise<RestoreResult> {
  let data: Buffer;
  try {
    data = await readFile(inFile);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new StoreError('not_found', `no backup file ${inFile}`);
    throw err;
  }
  if (data.length < HEADER_BYTES + TAG_BYTES || !data.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw invalid('not a cryptvisor KMS backup file');
  }
  if (data[MAGIC.length] !== VERSION)
    throw invalid(`unsupported backup format version ${data[MAGIC.length]}`);
  let at = MAGIC.length + 1;
  const keyId = data.toString('hex', at, (at += ID_BYTES));
  const salt = data.subarray(at, (at += SALT_BYTES));
  const nonce = data.subarray(at, (at += NONCE_BYTES));
  const header = data.subarray(0, HEADER_BYTES);
  return withSource(dst, async (store, rootKey) => {
    if (!rootKey.ids.includes(keyId)) {
      throw new StoreError(
        'root_key_unknown',
        `the backup was made under root key ${keyId}, which this KMS does not hold`,
      );
    }
    const fileKey = rootKey.deriveKey(`backup-file v1 ${salt.toString('hex')}`, keyId);
    const objKey = rootKey.deriveKey(`backup-object v1 ${salt.toString('hex')}`, keyId);
    try {
      let doc: BackupDocument;
      try {
        const d = createDecipheriv('aes-256-gcm', fileKey, nonce);
        d.setAAD(header);
        d.setAuthTag(data.subarray(data.length - TAG_BYTES));
        const plain = Buffer.concat([
          d.update(data.subarray(HEADER_BYTES, data.length - TAG_BYTES)),
          d.final(),
        ]);
        doc = JSON.parse(plain.toString('utf8')) as BackupDocument;
      } catch (err) {
        throw new StoreError(
          'backup_invalid',
          'the backup file is damaged or was not made with this root key',
          { cause: err },
        );
      }
      if (doc.format !== FORMAT || doc.version !== VERSION || !Array.isArray(doc.objects))
        throw invalid('not a cryptvisor KMS backup document');
      const objects = doc.objects.map(checkObject);
      if ((await store.locate({ limit: 1 })).length > 0)
        throw new StoreError('store_not_empty', 'restore needs an empty KMS store');
      for (let i = 0; i < objects.length; i += RESTORE_CHUNK) {
        await Promise.all(
          objects.slice(i, i + RESTORE_CHUNK).map(async (b) => {
            let material: Buffer | null = null;
            if (b.material !== null) {
              try {
                material = gcmOpen(objKey, Buffer.from(b.id, 'utf8'), Buffer.from(b.material, 'base64'));
              } catch (err) {
                throw new StoreError(
                  'backup_invalid',
                  'the backup file is damaged or was not made with this root key',
                  { cause: err },
                );
              }
            }
            const obj: StoredObject = { ...b, material };
            try {
              await store.insert(obj);
            } finally {
              material?.fill(0);
            }
          }),
        );
      }
      return { file: inFile, objects: objects.length };
    } finally {
      fileKey.fill(0);
      objKey.fill(0);
    }
  });
}
