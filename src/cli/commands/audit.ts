/** `cryptvisor audit list [--after N] [--limit N] | audit verify`: center's hash-chained audit log. */
import { CenterError } from '../../center/errors.js';
import type { AuditRecord } from '../../center/store/index.js';
import { str, type CommandSpec } from '../command.js';
import { DATA_OPTION, remote, table } from './login.js';

function whole(v: string | undefined, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max)
    throw new CenterError('invalid_request', `--${name} must be a whole number from ${min} to ${max}`);
  return n;
}

export const AUDIT_COMMANDS: readonly CommandSpec[] = [
  {
    path: ['audit', 'list'],
    summary: 'list audit records (oldest first) after sequence number N',
    options: [
      { name: 'after', type: 'string', help: 'only records after this sequence number (default 0)', valueName: 'N' },
      { name: 'limit', type: 'string', help: 'at most N records (1 to 10000, default 1000)', valueName: 'N' },
      DATA_OPTION,
    ],
    async run(ctx) {
      const q = new URLSearchParams();
      const after = whole(str(ctx.args, 'after'), 'after', 0, Number.MAX_SAFE_INTEGER);
      const limit = whole(str(ctx.args, 'limit'), 'limit', 1, 10_000);
      if (after !== undefined) q.set('after', String(after));
      if (limit !== undefined) q.set('limit', String(limit));
      const qs = q.toString();
      return (await remote(ctx)).call<AuditRecord[]>('GET', `/api/v1/audit${qs ? `?${qs}` : ''}`);
    },
    human: (r) =>
      table(
        ['SEQ', 'AT', 'ACTOR', 'ACTION', 'TARGET', 'RESULT', 'DETAIL'],
        (r as AuditRecord[]).map((a) => [
          String(a.seq),
          a.at,
          a.actor,
          a.action,
          a.target,
          a.result,
          a.detail === '{}' ? '' : a.detail,
        ]),
      ),
  },
  {
    path: ['audit', 'verify'],
    summary: 'check the audit hash chain; fails (exit 1) naming the first bad record',
    options: [DATA_OPTION],
    async run(ctx) {
      const r = await (await remote(ctx)).call<{ records: number; brokenAt: number | null }>(
        'GET',
        '/api/v1/audit/verify',
      );
      if (r.brokenAt !== null)
        throw new CenterError(
          'audit_broken',
          `the audit chain is broken at record ${r.brokenAt} (of ${r.records} checked): it was edited, removed or reordered`,
        );
      return r;
    },
    human: (r) => `audit chain intact: ${(r as { records: number }).records} records`,
  },
];
