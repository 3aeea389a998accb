import { StoreError } from './errors.js';
import type { LocateFilter } from './types.js';

/** Largest Locate page the store returns in one call. */
export const MAX_LOCATE = 100_000;

function count(v: number | undefined, field: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (!Number.isSafeInteger(v) || v < 0)
    throw new StoreError('invalid_object', `${field} must be a non-negative integer`);
  return Math.min(v, MAX_LOCATE);
}

/**
 * The Locate query for both SQL dialects; `ph(n)` renders the n-th placeholder (`?` or `$n`).
 * Ids come in creation order.
 */
export function locateQuery(f: LocateFilter, ph: (n: number) => string): { sql: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (clause: (p: string) => string, value: unknown): void => {
    params.push(value);
    where.push(clause(ph(params.length)));
  };
  if (f.objectType !== undefined) add((p) => `o.object_type = ${p}`, f.objectType);
  if (f.state !== undefined) add((p) => `o.state = ${p}`, f.state);
  if (f.algorithm !== undefined) add((p) => `o.algorithm = ${p}`, f.algorithm);
  if (f.owner !== undefined) add((p) => `o.owner = ${p}`, f.owner);
  if (f.name !== undefined)
    add((p) => `EXISTS (SELECT 1 FROM object_names n WHERE n.name = ${p} AND n.object_seq = o.seq)`, f.name);
  const limit = count(f.limit, 'limit', MAX_LOCATE);
  const offset = count(f.offset, 'offset', 0);
  params.push(limit, offset);
  const sql =
    `SELECT o.id FROM objects o${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}` +
    ` ORDER BY o.seq LIMIT ${ph(params.length - 1)} OFFSET ${ph(params.length)}`;
  return { sql, params };
}
