/**
 * Disk add and grow (docs/agent.md, "Disks"): the checks and the extent change; the VM manager
 * does the bookkeeping (configuration, descriptor) under the VM's lock.
 *
 * A cryptvisor LUKS2 disk has one segment of size "dynamic": its payload is the rest of the file
 * after the data offset. Growing it is therefore extending the extent file (sparse); no header
 * changes. Shrinking is refused (it would cut the guest's data).
 */
import { open } from 'node:fs/promises';
import { describeImage } from '../disk/index.js';
import { AgentError } from './errors.js';

/** The most disks a VM has (as create allows). */
export const MAX_DISKS = 16;

export function checkDiskSize(sizeBytes: unknown): number {
  if (
    typeof sizeBytes !== 'number' ||
    !Number.isSafeInteger(sizeBytes) ||
    sizeBytes <= 0 ||
    sizeBytes % 4096 !== 0
  ) {
    throw new AgentError('invalid_request', '"sizeBytes" must be a positive multiple of 4096 bytes');
  }
  return sizeBytes;
}

/** The id of a new disk: disk-N with the smallest N not in use. */
export function nextDiskId(disks: readonly { id: string }[]): string {
  if (disks.length >= MAX_DISKS)
    throw new AgentError('invalid_request', `a VM has at most ${MAX_DISKS} disks`);
  const used = new Set(disks.map((d) => d.id));
  let n = 0;
  while (used.has(`disk-${n}`)) n++;
  return `disk-${n}`;
}

async function truncateTo(path: string, length: number): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.truncate(length);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Grows a disk's extent so that its payload is `newSize` bytes. For LUKS2 the new area reads as
 * whatever its (zero) ciphertext decrypts to, like a grown dm-crypt device: the guest must not
 * assume zeros there.
 */
export async function growExtent(
  path: string,
  format: 'luks2' | 'raw',
  oldSize: number,
  newSize: number,
): Promise<void> {
  if (newSize < oldSize)
    throw new AgentError(
      'invalid_request',
      `a disk cannot shrink (it has ${oldSize} bytes; asked for ${newSize})`,
    );
  if (newSize === oldSize) return;
  if (format === 'raw') {
    await truncateTo(path, newSize);
    return;
  }
  const before = await describeImage(path);
  if (before.sizeBytes !== oldSize)
    throw new AgentError(
      'datastore_invalid',
      `extent ${path} holds ${before.sizeBytes} bytes, its descriptor says ${oldSize}`,
    );
  await truncateTo(path, before.dataOffset + newSize);
  const after = await describeImage(path);
  if (after.sizeBytes !== newSize) {
    // A fixed-size segment (not made by cryptvisor): undo, the header would need rewriting.
    await truncateTo(path, before.dataOffset + oldSize);
    throw new AgentError(
      'not_supported',
      `extent ${path} has a fixed-size LUKS2 segment; growing it is not supported`,
    );
  }
}
