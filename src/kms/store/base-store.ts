import type { Logger } from '../../common/logging.js';
import type { RootKey } from '../root-key.js';
import { StoreError } from './errors.js';
import { GroupCommit, type OpResult } from './group-commit.js';
import { toRow } from './record.js';
import type { AuditRecord, StoredObject } from './types.js';
import type { WriteOp } from './write-op.js';

/** What both backends share: sealing before the write, group commit of writes, the closed state. */
export abstract class BaseStore {
  protected readonly rootKey: RootKey;
  protected readonly log: Logger;
  readonly #writes: GroupCommit<WriteOp, void>;
  #closed = false;

  protected constructor(rootKey: RootKey, log: Logger, windowMs: number) {
    this.rootKey = rootKey;
    this.log = log;
    this.#writes = new GroupCommit((ops) => this.commit(ops), { windowMs });
  }

  /** Commits one batch in one transaction; one result per op, in order. */
  protected abstract commit(ops: readonly WriteOp[]): Promise<OpResult<void>[]>;

  protected check(): void {
    if (this.#closed) throw new StoreError('closed', 'the KMS store is closed');
  }

  async insert(obj: StoredObject, audit?: AuditRecord): Promise<void> {
    this.check();
    const row = toRow(obj, this.rootKey);
    return this.#writes.submit(audit ? { kind: 'insert', row, audit } : { kind: 'insert', row });
  }

  async update(obj: StoredObject, audit?: AuditRecord): Promise<void> {
    this.check();
    const row = toRow(obj, this.rootKey);
    return this.#writes.submit(audit ? { kind: 'update', row, audit } : { kind: 'update', row });
  }

  async appendAudit(records: readonly AuditRecord[]): Promise<void> {
    this.check();
    if (records.length === 0) return;
    return this.#writes.submit({ kind: 'audit', records });
  }

  /** Waits for pending writes and marks the store closed; false if it already was. */
  protected async closeWrites(): Promise<boolean> {
    if (this.#closed) return false;
    await this.#writes.drain();
    this.#closed = true;
    return true;
  }
}
