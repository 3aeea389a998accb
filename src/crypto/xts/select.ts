/**
 * Picks the XTS engine: the native addon when it is built, else the pure-Node fallback (with one
 * warning on stderr naming the reason). `engine.name` says which one is in use.
 * CRYPTVISOR_XTS_ENGINE=node forces the fallback (read here because the choice is process-wide).
 */
import { createNativeXtsEngine, loadXtsAddon, nativeLoadError, type NativeEngineOptions } from './native-engine.js';
import { nodeXtsEngine } from './node-engine.js';
import type { XtsEngine } from './engine.js';

let chosen: XtsEngine | undefined;

export function getXtsEngine(): XtsEngine {
  if (chosen === undefined) {
    const addon = process.env['CRYPTVISOR_XTS_ENGINE'] === 'node' ? null : loadXtsAddon();
    if (addon !== null) {
      chosen = createNativeXtsEngine(addon);
    } else {
      if (process.env['CRYPTVISOR_XTS_ENGINE'] !== 'node') {
        const why = nativeLoadError();
        const reason = why instanceof Error ? why.message.split('\n')[0] : 'unknown';
        process.emitWarning(`the native XTS addon is not available (${reason}); using the slower pure-Node engine`, {
          code: 'CRYPTVISOR_XTS_FALLBACK',
        });
      }
      chosen = nodeXtsEngine;
    }
  }
  return chosen;
}

/** The pure-Node engine, always available. */
export function getFallbackXtsEngine(): XtsEngine {
  return nodeXtsEngine;
}

/** The native engine with explicit options (e.g. parallel: 1 for a single-core benchmark), or null when not built. */
export function getNativeXtsEngine(opts: NativeEngineOptions = {}): XtsEngine | null {
  const addon = loadXtsAddon();
  return addon === null ? null : createNativeXtsEngine(addon, opts);
}
