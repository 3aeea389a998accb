/**
 * Opening a passphrase keyslot: derive the area key with the keyslot's kdf, decrypt the area,
 * merge the split key, and accept it only if it matches the volume key digest. A wrong passphrase
 * and a damaged keyslot look the same: passphrase_mismatch.
 */
import { SecretBytes } from '../crypto/index.js';
import { afMerge } from './af-splitter.js';
import { areaCipherName, cryptArea } from './area-cipher.js';
import { isVolumeKey } from './digest.js';
import { LuksError } from './errors.js';
import { checkHash, deriveKey } from './kdf.js';
import { materialSize } from './keyslot-area.js';
import type { Luks2Header, Luks2Keyslot } from './metadata.js';
import { readAt } from './source.js';
import type { LuksSource } from './source.js';

async function tryKeyslot(
  header: Luks2Header,
  src: LuksSource,
  k: Luks2Keyslot,
  passphrase: SecretBytes,
): Promise<SecretBytes | null> {
  const cipher = areaCipherName(k.area.encryption, k.area.key_size);
  checkHash(k.af.hash, 'keyslot af');
  const size = materialSize(k.key_size, k.af.stripes);
  const data = await readAt(src, Number(k.area.offset), size);
  if (data.length < size) throw new LuksError('truncated', 'the image ends inside a keyslot area');
  const areaKey = await passphrase.use((p) => deriveKey(k.kdf, p, k.area.key_size));
  try {
    cryptArea(cipher, areaKey, data, false);
  } finally {
    areaKey.fill(0);
  }
  const merged = afMerge(data, k.key_size, k.af.stripes, k.af.hash);
  data.fill(0);
  const candidate = SecretBytes.from(merged, { zeroSource: true });
  if (await isVolumeKey(header, candidate)) return candidate;
  candidate.dispose();
  return null;
}

/** Keyslots in the order cryptsetup tries them: priority 2 (prefer) first, then 1; 0 (ignore) only when named. */
function candidates(header: Luks2Header, keyslot?: string): [string, Luks2Keyslot][] {
  const all = Object.entries(header.json.keyslots);
  if (keyslot !== undefined) {
    const found = all.filter(([id]) => id === keyslot);
    if (found.length === 0) throw new LuksError('keyslot_not_found', `keyslot ${keyslot} does not exist`);
    return found;
  }
  const prio = (k: Luks2Keyslot): number => k.priority ?? 1;
  return all
    .filter(([, k]) => prio(k) > 0)
    .sort(([a, ka], [b, kb]) => prio(kb) - prio(ka) || Number(a) - Number(b));
}

/**
 * The volume key from the first keyslot the passphrase opens (or only from `keyslot`). Throws
 * passphrase_mismatch when none does, not_supported when no keyslot could even be tried.
 */
export async function openPassphraseKeyslot(
  header: Luks2Header,
  src: LuksSource,
  passphrase: SecretBytes,
  opts: { keyslot?: string } = {},
): Promise<{ keyslot: string; volumeKey: SecretBytes }> {
  let unsupported: LuksError | null = null;
  let tried = 0;
  for (const [id, k] of candidates(header, opts.keyslot)) {
    try {
      tried++;
      const key = await tryKeyslot(header, src, k, passphrase);
      if (key !== null) return { keyslot: id, volumeKey: key };
    } catch (err) {
      if (!(err instanceof LuksError && err.code === 'not_supported')) throw err;
      unsupported = err;
      tried--;
    }
  }
  if (tried === 0 && unsupported !== null) throw unsupported;
  throw new LuksError('passphrase_mismatch', 'no keyslot opens with this passphrase');
}
