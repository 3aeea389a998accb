import type { ObjectRow } from './record.js';
import type { AuditRecord } from './types.js';

/** One write that joins a group commit. */
export type WriteOp =
  | { readonly kind: 'insert'; readonly row: ObjectRow }
  | { readonly kind: 'update'; readonly row: ObjectRow }
  | { readonly kind: 'audit'; readonly records: readonly AuditRecord[] };
