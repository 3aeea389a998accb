/** Durable file writes: write a temp file, fsync it, rename it into place, fsync the directory. */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CommonError } from './errors.js';

/** fsyncs a directory, so a rename or create in it survives a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Writes `data` to `file` atomically with `mode`. With `exclusive`, first claims the name
 * (O_EXCL), so an existing file is refused with CommonError('file_exists') and two writers
 * cannot both succeed.
 */
export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  opts: { mode: number; exclusive?: boolean },
): Promise<void> {
  if (opts.exclusive) {
    let claim;
    try {
      claim = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, opts.mode);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST')
        throw new CommonError('file_exists', `${file} already exists`);
      throw err;
    }
    await claim.close();
  }
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, opts.mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fsyncDir(dirname(file));
}
