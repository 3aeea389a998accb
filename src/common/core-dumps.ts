/**
 * Turns off kernel core dumps for this process: RLIMIT_CORE=0 and prctl(PR_SET_DUMPABLE, 0),
 * through the small native addon native/sys.c (Node.js has no setrlimit or prctl). A process
 * that holds KEKs and DEKs must never leave its memory in a core file.
 *
 * Without the addon (not built), nothing can be changed from JavaScript: the result says so and
 * the caller logs a warning (run the agent with `ulimit -c 0` then; see docs/agent.md).
 */
import { createRequire } from 'node:module';

interface SysAddon {
  disableCoreDumps(): { rlimit: boolean; dumpable: boolean };
  isDumpable(): boolean;
  coreLimit(): number;
}

/** dist/src/common/ → the repository root → native/build/Release. */
const ADDON_PATH = new URL('../../../native/build/Release/cryptvisor_sys.node', import.meta.url).pathname;

let cached: { addon: SysAddon | null } | undefined;

function loadSysAddon(): SysAddon | null {
  if (cached === undefined) {
    try {
      cached = { addon: createRequire(import.meta.url)(ADDON_PATH) as SysAddon };
    } catch {
      cached = { addon: null };
    }
  }
  return cached.addon;
}

export interface CoreDumpStatus {
  /** The addon was loaded, so the two steps below were attempted. */
  readonly native: boolean;
  /** RLIMIT_CORE is now 0 (soft and hard). */
  readonly rlimit: boolean;
  /** PR_SET_DUMPABLE is now 0. */
  readonly dumpable: boolean;
}

/** Disables core dumps for this process; never throws. `ok` when both steps succeeded. */
export function disableCoreDumps(): CoreDumpStatus & { readonly ok: boolean } {
  const addon = loadSysAddon();
  if (!addon) return { native: false, rlimit: false, dumpable: false, ok: false };
  const r = addon.disableCoreDumps();
  return { native: true, rlimit: r.rlimit, dumpable: r.dumpable, ok: r.rlimit && r.dumpable };
}

/** The current state, for tests and `info`: null when the addon is not built. */
export function coreDumpState(): { readonly dumpable: boolean; readonly coreLimit: number } | null {
  const addon = loadSysAddon();
  return addon ? { dumpable: addon.isDumpable(), coreLimit: addon.coreLimit() } : null;
}
