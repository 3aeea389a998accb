import type { ObjectRow } from './record.js';
import type { AuditRecord } from './types.js';

/**
 * One write that joins a group commit. An insert or update may carry the audit record of the
 * operation that made it: the record is written in the same transaction, and only if the write
 * itself succeeded (its object id is the row's).
 */
export type WriteOp =
  | { readonly kind: 'insert'; readonly row: ObjectRow; readonly audit?: AuditRecord }
  | { readonly kind: 'update'; readonly row: ObjectRow; readonly audit?: AuditRecord }
  | { readonly kind: 'audit'; readonly records: readonly AuditRecord[] };

/** The audit records carried by the writes that succeeded, in order, as one audit write (or none). */
export function carriedAudit(ops: readonly WriteOp[], results: readonly { readonly ok: boolean }[]): WriteOp | undefined {
  const records: AuditRecord[] = [];
  ops.forEach((op, i) => {
    if (op.kind !== 'audit' && op.audit !== undefined && results[i]?.ok === true)
      records.push({ ...op.audit, objectId: op.row.id });
  });
  return records.length > 0 ? { kind: 'audit', records } : undefined;
}
