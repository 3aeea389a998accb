import { KmipError } from '../kmip/index.js';
import type { Identity } from './identity.js';
import { mayAccess } from './identity.js';
import { advanceByDates } from './lifecycle.js';
import { firstAttr, fromStored, toStored, type ManagedObject } from './objects.js';
import type { AuditRecord, KmsStore, LocateFilter } from './store/types.js';
import { enumName } from './kmip-values.js';
import { Tag } from '../kmip/index.js';

/**
 * The objects one request may touch, seen by one identity: objects of others do not exist for
 * it (Item Not Found, so existence is not revealed), except to the admin identity.
 *
 * In a batch with Batch Error Continuation "Undo", writes are held in an overlay and committed
 * only when every item succeeded; otherwise they are dropped, which undoes them.
 */
export class ObjectRepo {
  private readonly overlay = new Map<string, { obj: ManagedObject; isNew: boolean }>();
  private carry: AuditRecord | undefined;
  private carried = false;

  constructor(
    private readonly store: KmsStore,
    private readonly identity: Identity,
    private readonly now: bigint,
    private readonly deferWrites: boolean,
    /** KMIP 2.1 calls a missing object Object Not Found; earlier versions Item Not Found. */
    private readonly notFoundCode: 'item_not_found' | 'object_not_found' = 'item_not_found',
  ) {}

  /** The object, or Item Not Found (also for an object of another owner). */
  async load(id: string): Promise<ManagedObject> {
    const pending = this.overlay.get(id);
    if (pending) return pending.obj;
    const stored = await this.store.get(id);
    if (!stored || !mayAccess(this.identity, stored.owner)) throw new KmipError(this.notFoundCode, 'no such object');
    const obj = fromStored(stored);
    obj.state = advanceByDates(obj.state, obj.dates, this.now);
    return obj;
  }

  /**
   * The audit record the next (immediate) write carries into its transaction; the dispatcher sets
   * it for operations whose one write is their last step that can fail (Operation.auditWithWrite).
   * `auditCarried` then tells whether it was committed. Deferred (Undo) writes never carry it.
   */
  carryAudit(rec: AuditRecord | undefined): void {
    this.carry = rec;
    this.carried = false;
  }

  get auditCarried(): boolean {
    return this.carried;
  }

  async insert(obj: ManagedObject): Promise<void> {
    if (this.deferWrites) {
      this.overlay.set(obj.id, { obj, isNew: true });
      return;
    }
    const rec = this.takeCarry();
    await this.store.insert(toStored(obj, algorithmOf(obj)), rec);
    if (rec) this.carried = true;
  }

  async save(obj: ManagedObject): Promise<void> {
    const pending = this.overlay.get(obj.id);
    if (this.deferWrites) {
      this.overlay.set(obj.id, { obj, isNew: pending?.isNew ?? false });
      return;
    }
    obj.revision += 1;
    const rec = this.takeCarry();
    await this.store.update(toStored(obj, algorithmOf(obj)), rec);
    if (rec) this.carried = true;
  }

  private takeCarry(): AuditRecord | undefined {
    const rec = this.carry;
    this.carry = undefined;
    return rec;
  }

  async locate(filter: Omit<LocateFilter, 'owner'>): Promise<string[]> {
    const f: LocateFilter = this.identity.admin ? filter : { ...filter, owner: this.identity.subject };
    return this.store.locate(f);
  }

  /** Writes what the overlay holds (Undo batches, once every item succeeded). */
  async commit(): Promise<void> {
    for (const { obj, isNew } of this.overlay.values()) {
      if (isNew) await this.store.insert(toStored(obj, algorithmOf(obj)));
      else {
        obj.revision += 1;
        await this.store.update(toStored(obj, algorithmOf(obj)));
      }
    }
    this.overlay.clear();
  }

  discard(): void {
    this.overlay.clear();
  }
}

function algorithmOf(obj: ManagedObject): string | null {
  const a = firstAttr(obj, 'CryptographicAlgorithm');
  return a && a.type === 'Enumeration' ? (enumName(Tag.CryptographicAlgorithm, a.value) ?? null) : null;
}
