/**
 * The SQL of center's alarms (docs/center.md, "Alarms and events"). An alarm is active while its
 * `cleared_at` is null; at most one active alarm exists per (kind, target). Cleared alarms stay as
 * the event history. Raising and clearing return whether anything changed, so the caller audits
 * each transition once.
 */
import { randomUUID } from 'node:crypto';
import type { Row, SqlDriver } from './driver.js';

export const ALARM_KINDS = [
  'kms_unreachable',
  'certificate_expiring',
  'vm_locked',
  'key_missing',
  'host_unreachable',
] as const;
export type AlarmKind = (typeof ALARM_KINDS)[number];

export interface AlarmRecord {
  readonly id: string;
  readonly kind: AlarmKind;
  readonly target: string;
  readonly severity: 'warning' | 'critical';
  readonly message: string;
  readonly raisedAt: string;
  readonly updatedAt: string;
  readonly clearedAt: string | null;
}

function toAlarm(r: Row): AlarmRecord {
  const s = (k: string): string => String(r[k] ?? '');
  return {
    id: s('id'),
    kind: s('kind') as AlarmKind,
    target: s('target'),
    severity: s('severity') === 'critical' ? 'critical' : 'warning',
    message: s('message'),
    raisedAt: s('raised_at'),
    updatedAt: s('updated_at'),
    clearedAt: typeof r['cleared_at'] === 'string' ? r['cleared_at'] : null,
  };
}

export class AlarmStore {
  constructor(private readonly db: SqlDriver) {}

  /** Raises (or refreshes the message of) the active alarm of kind/target; `raised` is true for a new one. */
  async raise(
    kind: AlarmKind,
    target: string,
    severity: AlarmRecord['severity'],
    message: string,
  ): Promise<{ alarm: AlarmRecord; raised: boolean }> {
    return this.db.transaction(async () => {
      const now = new Date().toISOString();
      const active = await this.active(kind, target);
      if (active) {
        if (active.message !== message || active.severity !== severity)
          await this.db.run('UPDATE alarms SET message = ?, severity = ?, updated_at = ? WHERE id = ?', [
            message,
            severity,
            now,
            active.id,
          ]);
        return { alarm: { ...active, message, severity, updatedAt: now }, raised: false };
      }
      const alarm: AlarmRecord = {
        id: 'alarm-' + randomUUID(),
        kind,
        target,
        severity,
        message,
        raisedAt: now,
        updatedAt: now,
        clearedAt: null,
      };
      await this.db.run(
        'INSERT INTO alarms (id, kind, target, severity, message, raised_at, updated_at, cleared_at) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)',
        [alarm.id, kind, target, severity, message, now, now],
      );
      return { alarm, raised: true };
    });
  }

  /** Clears the active alarm of kind/target; returns it, or undefined when none was active. */
  async clear(kind: AlarmKind, target: string): Promise<AlarmRecord | undefined> {
    return this.db.transaction(async () => {
      const active = await this.active(kind, target);
      if (!active) return undefined;
      const now = new Date().toISOString();
      await this.db.run('UPDATE alarms SET cleared_at = ?, updated_at = ? WHERE id = ?', [now, now, active.id]);
      return { ...active, clearedAt: now, updatedAt: now };
    });
  }

  async active(kind: AlarmKind, target: string): Promise<AlarmRecord | undefined> {
    const rows = await this.db.all(
      'SELECT * FROM alarms WHERE kind = ? AND target = ? AND cleared_at IS NULL',
      [kind, target],
    );
    return rows[0] ? toAlarm(rows[0]) : undefined;
  }

  /** Active alarms, or every alarm (newest first) with `all`. */
  async list(opts: { all?: boolean; limit?: number } = {}): Promise<AlarmRecord[]> {
    const where = opts.all ? '' : 'WHERE cleared_at IS NULL ';
    const rows = await this.db.all(
      `SELECT * FROM alarms ${where}ORDER BY raised_at DESC, id LIMIT ?`,
      [opts.limit ?? 1000],
    );
    return rows.map(toAlarm);
  }
}
