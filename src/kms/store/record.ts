/**
 * The mapping between a StoredObject and its database row, shared by both backends: validation,
 * sealing on the way in and unsealing on the way out.
 */
import type { RootKey } from '../root-key.js';
import { StoreError } from './errors.js';
import type { StoredAuditRecord, StoredObject } from './types.js';

/** A row of the `objects` table as both backends read and write it. */
export interface ObjectRow {
  readonly id: string;
  readonly object_type: string;
  readonly state: string;
  readonly owner: string;
  /** JSON array of strings. */
  readonly names: string;
  readonly algorithm: string | null;
  /** JSON document. */
  readonly attributes: string;
  /** The sealed blob, or null. */
  readonly material: Uint8Array | null;
  readonly revision: number;
}

const MAX_ID = 256;
const MAX_TEXT = 1024;

function text(v: unknown, field: string, max: number): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max) {
    throw new StoreError(
      'invalid_object',
      `${field} must be a non-empty string of at most ${max} characters`,
    );
  }
  return v;
}

/** Checks an object's shape and seals its material: the row to write. */
export function toRow(obj: StoredObject, rootKey: RootKey): ObjectRow {
  const id = text(obj.id, 'id', MAX_ID);
  if (!Array.isArray(obj.names) || obj.names.some((n) => typeof n !== 'string' || n.length > MAX_TEXT)) {
    throw new StoreError('invalid_object', 'names must be an array of strings');
  }
  if (obj.algorithm !== null && typeof obj.algorithm !== 'string')
    throw new StoreError('invalid_object', 'algorithm must be a string or null');
  if (!Number.isSafeInteger(obj.revision) || obj.revision < 1)
    throw new StoreError('invalid_object', 'revision must be an integer >= 1');
  if (obj.material !== null && !(obj.material instanceof Uint8Array))
    throw new StoreError('invalid_object', 'material must be bytes or null');
  let attributes: string | undefined;
  try {
    attributes = JSON.stringify(obj.attributes ?? null);
  } catch (err) {
    throw new StoreError('invalid_object', 'attributes must be JSON-serializable', { cause: err });
  }
  return {
    id,
    object_type: text(obj.objectType, 'objectType', MAX_TEXT),
    state: text(obj.state, 'state', MAX_TEXT),
    owner: text(obj.owner, 'owner', MAX_TEXT),
    names: JSON.stringify([...new Set(obj.names)]),
    algorithm: obj.algorithm,
    attributes,
    material: obj.material === null ? null : rootKey.seal(id, obj.material),
    revision: obj.revision,
  };
}

/** Unseals a row into the object the service sees (fresh material buffer, the caller may zero it). */
export function fromRow(row: ObjectRow, rootKey: RootKey): StoredObject {
  return {
    id: row.id,
    objectType: row.object_type,
    state: row.state,
    owner: row.owner,
    names: JSON.parse(row.names) as string[],
    algorithm: row.algorithm,
    attributes: JSON.parse(row.attributes) as unknown,
    material: row.material === null ? null : rootKey.unseal(row.id, row.material),
    revision: Number(row.revision),
  };
}

/** The names of a row, for the object_names index. */
export function rowNames(row: ObjectRow): string[] {
  return JSON.parse(row.names) as string[];
}

/** A row of the `audit` table as both backends read it. */
export interface AuditRow {
  readonly seq: number | string;
  readonly at: string | Date;
  readonly identity: string;
  readonly operation: string;
  readonly object_id: string | null;
  readonly result: string;
  readonly reason: string | null;
}

export function auditFromRow(r: AuditRow): StoredAuditRecord {
  return {
    seq: Number(r.seq),
    at: r.at instanceof Date ? r.at.toISOString() : r.at,
    identity: r.identity,
    operation: r.operation,
    result: r.result,
    ...(r.object_id !== null ? { objectId: r.object_id } : {}),
    ...(r.reason !== null ? { reason: r.reason } : {}),
  };
}
