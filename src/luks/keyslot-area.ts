/** Placement of keyslot areas inside the keyslots area, and ids of keyslots. */
import { LuksError } from './errors.js';
import { AREA_ALIGNMENT, MAX_KEYSLOTS } from './layout.js';
import type { Luks2Header } from './metadata.js';

/** Bytes of split key material: key size times stripes, in whole 512-byte sectors. */
export function materialSize(keySize: number, stripes: number): number {
  return Math.ceil((keySize * stripes) / 512) * 512;
}

/** The first free 4096-aligned gap of size bytes in the keyslots area (first fit, as cryptsetup). */
export function allocateArea(header: Luks2Header, size: number): number {
  const start = 2 * header.hdrSize;
  const end = start + Number(header.json.config.keyslots_size);
  const used = Object.values(header.json.keyslots)
    .map((k) => ({ from: Number(k.area.offset), to: Number(k.area.offset) + Number(k.area.size) }))
    .sort((a, b) => a.from - b.from);
  let at = start;
  for (const u of used) {
    if (at + size <= u.from) break;
    at = Math.max(at, Math.ceil(u.to / AREA_ALIGNMENT) * AREA_ALIGNMENT);
  }
  if (at + size > end)
    throw new LuksError('keyslots_full', 'the keyslots area has no room for another keyslot');
  return at;
}

/** The requested keyslot id if free, else the lowest free id. */
export function freeKeyslotId(header: Luks2Header, wanted?: string): string {
  if (wanted !== undefined) {
    if (!/^(0|[1-9][0-9]?)$/.test(wanted) || Number(wanted) >= MAX_KEYSLOTS) {
      throw new LuksError(
        'keyslot_not_found',
        `keyslot ${wanted} is not a keyslot number (0 to ${MAX_KEYSLOTS - 1})`,
      );
    }
    if (wanted in header.json.keyslots) throw new LuksError('keyslots_full', `keyslot ${wanted} is in use`);
    return wanted;
  }
  for (let i = 0; i < MAX_KEYSLOTS; i++) if (!(String(i) in header.json.keyslots)) return String(i);
  throw new LuksError('keyslots_full', 'all 32 keyslots are in use');
}
