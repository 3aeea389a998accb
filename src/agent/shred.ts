/**
 * The agent's part of a crypto-shred (DESIGN.md §6; docs/center.md, "Migrate, clone, shred"):
 * the VM is powered off (its exports closed, its DEKs zeroed), the KEK is dropped from memory,
 * and every keyslot of every LUKS2 header of the VM (disks and NVRAM) is erased: the keyslot
 * areas are overwritten with zeros, then the headers are written without them, so no escrow
 * passphrase opens the volume any more. A journal of an unfinished conversion (which holds header
 * copies) is overwritten and removed. The payload is not touched: it stays ciphertext, byte for
 * byte. center then Revokes and Destroys the KEK at the key provider.
 */
import { open, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { journalPath } from '../disk/index.js';
import { readLuks2Header, removeKeyslots } from '../luks/index.js';
import type { ApiContext } from './api.js';
import { Datastore } from './datastore.js';
import { AgentError } from './errors.js';

export interface ShredResult {
  readonly name: string;
  readonly keyProviderId: string;
  readonly keyId: string;
  /** Per LUKS2 header (disk id or "nvram"): how many keyslots were erased. */
  readonly erased: readonly { readonly disk: string; readonly keyslots: number }[];
}

/** Overwrites a file with zeros, flushes it and removes it (absent: nothing to do). */
async function wipeFile(path: string): Promise<void> {
  const size = await stat(path).then(
    (s) => s.size,
    () => -1,
  );
  if (size < 0) return;
  const fh = await open(path, 'r+');
  try {
    const zeros = Buffer.alloc(Math.min(size, 1 << 20));
    for (let at = 0; at < size; at += zeros.length)
      await fh.write(zeros, 0, Math.min(zeros.length, size - at), at);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await rm(path, { force: true });
}

/** Erases every keyslot of one LUKS2 extent (and wipes its conversion journal); returns how many there were. */
export async function eraseKeyslots(extent: string): Promise<number> {
  await wipeFile(journalPath(extent));
  const fh = await open(extent, 'r+');
  try {
    const header = await readLuks2Header(fh);
    const ids = Object.keys(header.json.keyslots);
    if (ids.length > 0) await removeKeyslots(fh, header, ids);
    return ids.length;
  } finally {
    await fh.close();
  }
}

export async function shredVm(c: ApiContext, name: string): Promise<ShredResult> {
  const view = await c.vms.show(name);
  if (!view.encrypted || !view.keyId || !view.keyProviderId) {
    throw new AgentError('invalid_request', `VM ${name} is not encrypted: there is no key to shred`);
  }
  await c.vms.forget(name);
  const datastore = new Datastore(dirname(view.path));
  const config = await datastore.readConfig(view.path);
  const extents: { disk: string; path: string }[] = [];
  const ref = { keyProviderId: view.keyProviderId, keyId: view.keyId };
  c.keys.remove(ref);
  for (const d of config.disks) {
    const desc = await datastore.readDescriptor(view.path, d.descriptor);
    if (desc.format === 'luks2') extents.push({ disk: d.id, path: join(view.path, desc.extent) });
    // A disk may name another KEK (a shallow rekey cut short): it goes too.
    if (desc.keyProviderId && desc.keyId)
      c.keys.remove({ keyProviderId: desc.keyProviderId, keyId: desc.keyId });
  }
  extents.push({ disk: 'nvram', path: join(view.path, config.nvram) });
  const erased = [];
  for (const e of extents) erased.push({ disk: e.disk, keyslots: await eraseKeyslots(e.path) });
  await datastore.log(
    view.path,
    `crypto-shred: key ${ref.keyId} dropped from host ${c.hostId}, ${erased.reduce((n, e) => n + e.keyslots, 0)} keyslot(s) erased`,
  );
  c.logger.info({ vm: name, keyId: ref.keyId }, 'VM crypto-shredded on this host');
  return { name, ...ref, erased };
}
