/**
 * The native XTS engine: the N-API addon in native/ (see native/xts.c), built by `npm install`.
 *
 * Batches run on the libuv thread pool, off the main thread; a batch of at least 2 × splitBytes
 * is split into up to `parallel` parts that run at once, so every core works on one big batch.
 * A batch of at most inlineBytes (default 16 KiB, a few microseconds of work) runs on the calling
 * thread instead: handing it to a pool thread and back would cost more than the cipher.
 */
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { CryptoError } from '../errors.js';
import { checkBatch, checkUnit } from './batch.js';
import type { NowWriteOptions, XtsBatchOptions, XtsEngine, XtsFileIo, XtsFileTarget } from './engine.js';
import type { XtsKey } from './xts-key.js';

/** encryptWrite's arguments (native/file-io.c); encryptWriteNow takes `inPlace` after them. */
type EncryptWriteArgs = [key: Uint8Array, fd: number, position: number, data: Uint8Array, sectorSize: number, firstUnit: bigint, sync: boolean];

interface XtsAddon {
  /** True when batches drive OpenSSL's provider implementation directly (see native/xts.c). */
  readonly direct: boolean;
  unit(encrypt: boolean, key: Uint8Array, tweak16: Uint8Array, data: Uint8Array, out: Uint8Array): void;
  batch(encrypt: boolean, key: Uint8Array, data: Uint8Array, out: Uint8Array, sectorSize: number, firstUnit: bigint): Promise<void>;
  batchSync(encrypt: boolean, key: Uint8Array, data: Uint8Array, out: Uint8Array, sectorSize: number, firstUnit: bigint): void;
  /** native/file-io.c (absent from an addon built before it). */
  readDecrypt?(key: Uint8Array, fd: number, position: number, buf: Uint8Array, sectorSize: number, firstUnit: bigint): Promise<void>;
  encryptWrite?(...args: EncryptWriteArgs): Promise<void>;
  readDecryptNow?(key: Uint8Array, fd: number, position: number, buf: Uint8Array, sectorSize: number, firstUnit: bigint): boolean;
  encryptWriteNow?(...args: [...EncryptWriteArgs, inPlace: boolean]): void;
}

/** dist/src/crypto/xts/ → the repository root → native/build/Release. */
const ADDON_PATH = new URL('../../../../native/build/Release/cryptvisor_xts.node', import.meta.url).pathname;

let loaded: { addon: XtsAddon | null; error: unknown } | undefined;

/** Loads the addon once; null (with the reason in nativeLoadError()) when it is not built. */
export function loadXtsAddon(): XtsAddon | null {
  if (loaded === undefined) {
    try {
      const req = createRequire(import.meta.url);
      loaded = { addon: req(ADDON_PATH) as XtsAddon, error: undefined };
    } catch (err) {
      loaded = { addon: null, error: err };
    }
  }
  return loaded.addon;
}

/** Why the addon did not load, for the warning of getXtsEngine(). */
export function nativeLoadError(): unknown {
  loadXtsAddon();
  return loaded?.error;
}

export interface NativeEngineOptions {
  /** How many parts a big batch may be split into (default: the number of CPUs). */
  readonly parallel?: number;
  /** The smallest part worth a thread of its own (default 128 KiB). */
  readonly splitBytes?: number;
  /** Batches up to this size run on the calling thread (default 16 KiB; 0: never). */
  readonly inlineBytes?: number;
  /** Fused file jobs of at least this size are split into `parallel` parts (default 1 MiB). */
  readonly fileSplitBytes?: number;
}

function engineFailed(err: unknown): CryptoError {
  return new CryptoError('engine_failed', 'the native XTS engine failed', { cause: err });
}

export function createNativeXtsEngine(addon: XtsAddon, opts: NativeEngineOptions = {}): XtsEngine {
  const parallel = Math.max(1, Math.floor(opts.parallel ?? availableParallelism()));
  const splitBytes = Math.max(4096, opts.splitBytes ?? 128 * 1024);
  const inlineBytes = Math.max(0, opts.inlineBytes ?? 16 * 1024);

  async function batch(encrypt: boolean, key: XtsKey, data: Uint8Array, o: XtsBatchOptions): Promise<void> {
    const { sectors, unitsPerSector } = checkBatch(key, data, o);
    const out = o.out ?? data;
    if (sectors === 0) return;
    if (data.length <= inlineBytes) {
      try {
        key.use((k) => addon.batchSync(encrypt, k, data, out, o.sectorSize, o.firstUnit));
      } catch (err) {
        throw engineFailed(err);
      }
      return;
    }
    const parts = Math.max(1, Math.min(parallel, Math.floor(data.length / splitBytes)));
    const perPart = Math.ceil(sectors / parts);
    const jobs: Promise<void>[] = [];
    try {
      // The addon copies the key synchronously inside batch(), so the borrow ends with this loop.
      key.use((k) => {
        for (let s = 0; s < sectors; s += perPart) {
          const n = Math.min(perPart, sectors - s);
          const a = s * o.sectorSize;
          const b = a + n * o.sectorSize;
          const unit = o.firstUnit + BigInt(s * unitsPerSector);
          jobs.push(addon.batch(encrypt, k, data.subarray(a, b), out.subarray(a, b), o.sectorSize, unit));
        }
      });
    } catch (err) {
      // Parts already queued still finish (the addon holds their buffers); wait, then report.
      await Promise.allSettled(jobs);
      throw engineFailed(err);
    }
    const results = await Promise.allSettled(jobs);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed !== undefined) throw engineFailed(failed.reason);
  }

  function unit(encrypt: boolean, key: XtsKey, tweak16: Uint8Array, data: Uint8Array): Uint8Array {
    checkUnit(key, tweak16, data);
    const out = new Uint8Array(data.length);
    try {
      key.use((k) => addon.unit(encrypt, k, tweak16, data, out));
    } catch (err) {
      throw engineFailed(err);
    }
    return out;
  }

  const fileSplitBytes = Math.max(4096, opts.fileSplitBytes ?? 1024 * 1024);
  const fileIo = createFileIo(addon, parallel, fileSplitBytes);

  return Object.freeze({
    name: 'native' as const,
    ...(fileIo !== undefined ? { fileIo } : {}),
    encrypt: (key: XtsKey, data: Uint8Array, o: XtsBatchOptions): Promise<void> => batch(true, key, data, o),
    decrypt: (key: XtsKey, data: Uint8Array, o: XtsBatchOptions): Promise<void> => batch(false, key, data, o),
    encryptUnit: (key: XtsKey, tweak16: Uint8Array, data: Uint8Array): Uint8Array => unit(true, key, tweak16, data),
    decryptUnit: (key: XtsKey, tweak16: Uint8Array, data: Uint8Array): Uint8Array => unit(false, key, tweak16, data),
  });
}

/**
 * The fused file jobs (native/file-io.c). A request is one pool job; one of at least splitBytes is
 * split into up to `parallel` jobs on consecutive sector ranges, so a lone large request still
 * uses every core. With many requests in flight (the usual NBD case) the pool is busy anyway.
 */
function createFileIo(addon: XtsAddon, parallel: number, splitBytes: number): XtsFileIo | undefined {
  const { readDecrypt, encryptWrite } = addon;
  if (readDecrypt === undefined || encryptWrite === undefined) return undefined;

  async function run(
    key: XtsKey,
    at: XtsFileTarget,
    data: Uint8Array,
    o: XtsBatchOptions,
    job: (k: Uint8Array, position: number, part: Uint8Array, unit: bigint) => Promise<void>,
  ): Promise<void> {
    const { sectors, unitsPerSector } = checkBatch(key, data, o);
    if (sectors === 0) return;
    const parts = data.length >= splitBytes ? Math.min(parallel, sectors) : 1;
    const perPart = Math.ceil(sectors / parts);
    const jobs: Promise<void>[] = [];
    try {
      // The addon copies the key synchronously, so the borrow ends with this loop.
      key.use((k) => {
        for (let s = 0; s < sectors; s += perPart) {
          const a = s * o.sectorSize;
          const b = Math.min(sectors, s + perPart) * o.sectorSize;
          jobs.push(job(k, at.position + a, data.subarray(a, b), o.firstUnit + BigInt(s * unitsPerSector)));
        }
      });
    } catch (err) {
      await Promise.allSettled(jobs);
      throw engineFailed(err);
    }
    const results = await Promise.allSettled(jobs);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed === undefined) return;
    // A system call's error (code ENOSPC, EIO, ...) passes through for the caller to map.
    const reason: unknown = failed.reason;
    const code = (reason as { syscall?: unknown } | null)?.syscall;
    throw typeof code === 'string' ? reason : engineFailed(reason);
  }

  const { readDecryptNow, encryptWriteNow } = addon;
  return Object.freeze({
    ...(readDecryptNow !== undefined && encryptWriteNow !== undefined
      ? {
          readDecryptNow: (key: XtsKey, at: XtsFileTarget, buf: Uint8Array, o: XtsBatchOptions): boolean => {
            checkBatch(key, buf, o);
            return key.use((k) => readDecryptNow(k, at.fd, at.position, buf, o.sectorSize, o.firstUnit));
          },
          encryptWriteNow: (key: XtsKey, at: XtsFileTarget, data: Uint8Array, o: XtsBatchOptions & NowWriteOptions): void => {
            checkBatch(key, data, o);
            key.use((k) => encryptWriteNow(k, at.fd, at.position, data, o.sectorSize, o.firstUnit, o.sync ?? false, o.inPlace ?? false));
          },
        }
      : {}),
    readDecrypt: (key: XtsKey, at: XtsFileTarget, buf: Uint8Array, o: XtsBatchOptions): Promise<void> =>
      run(key, at, buf, o, (k, position, part, unit) => readDecrypt(k, at.fd, position, part, o.sectorSize, unit)),
    encryptWrite: (key: XtsKey, at: XtsFileTarget, data: Uint8Array, o: XtsBatchOptions & { readonly sync?: boolean }): Promise<void> =>
      run(key, at, data, o, (k, position, part, unit) => encryptWrite(k, at.fd, position, part, o.sectorSize, unit, o.sync ?? false)),
  });
}
