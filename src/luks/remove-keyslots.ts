/**
 * Removing keyslots: each keyslot's whole area is overwritten with zeros and flushed first, then
 * the header without the keyslots is written. A crash in between leaves a keyslot whose material
 * is gone (it can no longer open), never removed metadata over live key material.
 */
import type { FileHandle } from 'node:fs/promises';
import { LuksError } from './errors.js';
import { cloneJson } from './metadata.js';
import type { Luks2Header } from './metadata.js';
import { writeAt } from './source.js';
import { writeLuks2Header } from './write-header.js';
import type { WriteOptions } from './write-header.js';

const WIPE_CHUNK = 1 << 20;

export async function removeKeyslots(
  fh: FileHandle,
  header: Luks2Header,
  ids: readonly string[],
  opts: WriteOptions = {},
): Promise<Luks2Header> {
  for (const id of ids) {
    if (!Object.hasOwn(header.json.keyslots, id))
      throw new LuksError('keyslot_not_found', `keyslot ${id} does not exist`);
  }
  const sync = opts.sync !== false;
  const zeros = Buffer.alloc(WIPE_CHUNK);
  for (const id of ids) {
    const area = header.json.keyslots[id]?.area;
    if (area === undefined) continue;
    const start = Number(area.offset);
    const end = start + Number(area.size);
    for (let at = start; at < end; at += WIPE_CHUNK) {
      await writeAt(fh, at, zeros.subarray(0, Math.min(WIPE_CHUNK, end - at)), false);
    }
  }
  if (sync && ids.length > 0) {
    try {
      await fh.datasync();
    } catch (cause) {
      throw new LuksError('io_failed', 'flushing the wiped keyslot areas failed', { cause });
    }
  }
  const json = cloneJson(header.json);
  const gone = new Set(ids);
  for (const id of ids) delete json.keyslots[id];
  for (const d of Object.values(json.digests)) d.keyslots = d.keyslots.filter((k) => !gone.has(k));
  for (const t of Object.values(json.tokens)) t.keyslots = t.keyslots.filter((k) => !gone.has(k));
  return writeLuks2Header(fh, { ...header, json }, opts);
}
