/**
 * The KMS audit stream: one record per operation (identity, operation, object id, result), never
 * key material, stored in the KMS database's `audit` table. Records are buffered and appended in
 * batches at least every 100 ms; the service awaits flush() before it answers Create, Register,
 * ReKey, Revoke or Destroy, so those are never acknowledged without their audit record.
 */
import type { Logger } from '../common/logging.js';
import { silentLogger } from '../common/logging.js';
import { StoreError } from './store/errors.js';
import type { AuditRecord, KmsStore } from './store/types.js';

const MAX_FIELD = 1024;

function clip(v: string): string {
  return v.length > MAX_FIELD ? v.slice(0, MAX_FIELD) : v;
}

/**
 * A record as the audit table keeps it: text fields clipped to 1024 characters. Also for records
 * that travel with a store write (KmsStore.insert/update `audit`) instead of through AuditLog.
 */
export function clippedAuditRecord(rec: AuditRecord): AuditRecord {
  return {
    identity: clip(String(rec.identity)),
    operation: clip(String(rec.operation)),
    result: clip(String(rec.result)),
    ...(rec.objectId !== undefined ? { objectId: clip(String(rec.objectId)) } : {}),
    ...(rec.reason !== undefined ? { reason: clip(String(rec.reason)) } : {}),
  };
}

export interface AuditLogOptions {
  /** Longest time a record waits in memory (ms, default 100). */
  readonly intervalMs?: number;
  readonly logger?: Logger;
}

export class AuditLog {
  readonly #store: Pick<KmsStore, 'appendAudit'>;
  readonly #log: Logger;
  readonly #timer: NodeJS.Timeout;
  #pending: AuditRecord[] = [];
  #chain: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(store: Pick<KmsStore, 'appendAudit'>, opts: AuditLogOptions = {}) {
    this.#store = store;
    this.#log = opts.logger ?? silentLogger();
    this.#timer = setInterval(() => {
      if (this.#pending.length > 0)
        this.flush().catch((err: unknown) => this.#log.error({ err: String(err) }, 'audit flush failed'));
    }, opts.intervalMs ?? 100);
    this.#timer.unref();
  }

  /** Buffers one record (text fields clipped to 1024 characters). */
  append(rec: AuditRecord): void {
    if (this.#closed) throw new StoreError('closed', 'the audit log is closed');
    this.#pending.push(clippedAuditRecord(rec));
  }

  /**
   * Resolves once every record appended before the call is durable. On failure the records go
   * back to the front of the buffer (retried by the next flush) and the promise rejects.
   */
  flush(): Promise<void> {
    const batch = this.#pending;
    this.#pending = [];
    const p = this.#chain.then(async () => {
      if (batch.length === 0) return;
      try {
        await this.#store.appendAudit(batch);
      } catch (err) {
        this.#pending = [...batch, ...this.#pending];
        throw err;
      }
    });
    this.#chain = p.catch(() => undefined);
    return p;
  }

  /** Stops the timer and flushes what is left. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    await this.flush();
  }
}
