/**
 * Root-key rotation, crash-safe (docs/kms-storage.md):
 *   1. write `root.key.next` (fsync'd); from then on new blobs are sealed under it;
 *   2. re-seal every object still under the old key, in batches (each blob names its key id,
 *      so after a crash every object unseals with one of the two files);
 *   3. rename `root.key.next` over `root.key` (atomic).
 * A store opened while `root.key.next` exists finishes steps 2 and 3 before it serves.
 */
import type { Logger } from '../../common/logging.js';
import { silentLogger } from '../../common/logging.js';
import { RootKey } from '../root-key.js';
import { openBackend } from './backend.js';
import type { StoreBackend } from './types.js';

export interface RotationProgress {
  /** Objects re-sealed so far in this run. */
  readonly resealed: number;
}

export interface RotateOptions {
  readonly batchSize?: number;
  /** Called after each committed batch. */
  readonly onProgress?: (p: RotationProgress) => void | Promise<void>;
  readonly logger?: Logger;
}

/** Steps 2 and 3 for a store whose root key has a pending rotation; returns how many objects it re-sealed. */
export async function completeRotation(
  store: StoreBackend,
  rootKey: RootKey,
  opts: RotateOptions = {},
): Promise<number> {
  if (!rootKey.rotationPending) return 0;
  const log = opts.logger ?? silentLogger();
  const batch = opts.batchSize ?? 200;
  let resealed = 0;
  log.info({ to: rootKey.id }, 'root key rotation: re-sealing objects');
  for (;;) {
    const n = await store.resealBatch(batch);
    if (n === 0) break;
    resealed += n;
    await opts.onProgress?.({ resealed });
  }
  await rootKey.finishRotation();
  log.info({ rootKeyId: rootKey.id, resealed }, 'root key rotation finished');
  return resealed;
}

export interface RotateResult {
  readonly oldRootKeyId: string;
  readonly newRootKeyId: string;
  readonly resealed: number;
}

/**
 * `kms rotate-root-key`: a new root key for dataDir, every object re-sealed under it. Run it with
 * the KMS stopped (a running KMS keeps sealing under the key it loaded). Resumes a rotation that
 * a crash interrupted.
 */
export async function rotateRootKey(
  opts: { dataDir: string; database?: string } & RotateOptions,
): Promise<RotateResult> {
  const rootKey = await RootKey.load(opts.dataDir);
  try {
    const oldRootKeyId = rootKey.ids[0] as string;
    await rootKey.beginRotation();
    const store = await openBackend({
      dataDir: opts.dataDir,
      ...(opts.database !== undefined ? { database: opts.database } : {}),
      rootKey,
      ...(opts.logger ? { logger: opts.logger } : {}),
    });
    try {
      const resealed = await completeRotation(store, rootKey, opts);
      return { oldRootKeyId, newRootKeyId: rootKey.id, resealed };
    } finally {
      await store.close();
    }
  } finally {
    rootKey.dispose();
  }
}
