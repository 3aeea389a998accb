/**
 * fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE), which Node does not offer, through the
 * project's system-call addon (native/sys.c, built by `npm install`). The range becomes a hole
 * that reads as zeros; the file keeps its size. Failures reject with Node-style errors (`code` is
 * the errno name: EOPNOTSUPP when the file system cannot punch holes).
 */
import { createRequire } from 'node:module';

export type PunchHole = (fd: number, offset: number, length: number) => Promise<void>;

/** dist/src/nbd/ → the repository root → native/build/Release. */
const ADDON_PATH = new URL('../../../native/build/Release/cryptvisor_sys.node', import.meta.url).pathname;

let loaded: PunchHole | null | undefined;

/** The addon's punchHole, or null when the addon is not built (trim then leaves data in place). */
export function nativePunchHole(): PunchHole | null {
  if (loaded === undefined) {
    try {
      const addon = createRequire(import.meta.url)(ADDON_PATH) as { punchHole?: PunchHole };
      loaded = typeof addon.punchHole === 'function' ? addon.punchHole : null;
    } catch {
      loaded = null;
    }
  }
  return loaded;
}
