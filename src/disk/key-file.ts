/**
 * Key files for the offline disk tools: the raw volume key (the disk DEK) in binary, 64 bytes, as
 * `cryptsetup --volume-key-file` reads it; or a raw 32-byte KEK. A key file readable by group or
 * others is refused, and so is any other length.
 */
import { open, stat } from 'node:fs/promises';
import { SecretBytes } from '../crypto/index.js';
import { DiskError } from './errors.js';

export const VOLUME_KEY_BYTES = 64;
export const KEK_BYTES = 32;

export async function readKeyFile(path: string, expected: number = VOLUME_KEY_BYTES): Promise<SecretBytes> {
  let st;
  try {
    st = await stat(path);
  } catch (err) {
    throw new DiskError('image_not_found', `key file ${path} cannot be read`, { cause: err });
  }
  if (!st.isFile()) throw new DiskError('key_file_invalid', `key file ${path} is not a regular file`);
  if ((st.mode & 0o077) !== 0) {
    throw new DiskError(
      'key_file_permissions',
      `key file ${path} is readable by group or others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`,
    );
  }
  if (st.size !== expected) {
    throw new DiskError('key_file_invalid', `key file ${path} must hold exactly ${expected} bytes of raw key, not ${st.size}`);
  }
  const buf = Buffer.alloc(expected);
  const fh = await open(path, 'r');
  try {
    const { bytesRead } = await fh.read(buf, 0, expected, 0);
    if (bytesRead !== expected) throw new DiskError('key_file_invalid', `key file ${path} changed while being read`);
    return SecretBytes.from(buf, { zeroSource: true });
  } finally {
    buf.fill(0);
    await fh.close();
  }
}

/** Writes a key file with mode 0600, refusing to overwrite one. */
export async function writeKeyFile(path: string, key: SecretBytes): Promise<void> {
  let fh;
  try {
    fh = await open(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new DiskError('image_exists', `${path} already exists`);
    throw err;
  }
  try {
    await key.use((b) => fh.write(b, 0, b.length, 0));
    await fh.datasync();
  } finally {
    await fh.close();
  }
}
