/** `cryptvisor alarm list [--all] | alarm check`: center's alarms and their history. */
import type { AlarmRecord } from '../../center/store/alarm-store.js';
import { flag, type CommandSpec } from '../command.js';
import { DATA_OPTION, remote, table } from './login.js';

const list = (r: unknown): string =>
  table(
    ['KIND', 'TARGET', 'SEVERITY', 'RAISED', 'CLEARED', 'MESSAGE'],
    (r as AlarmRecord[]).map((a) => [a.kind, a.target, a.severity, a.raisedAt, a.clearedAt ?? '', a.message]),
  );

export const ALARM_COMMANDS: readonly CommandSpec[] = [
  {
    path: ['alarm', 'list'],
    summary: 'active alarms (KMS unreachable, certificate expiring, VM locked, key missing, host unreachable)',
    options: [{ name: 'all', type: 'boolean', help: 'also the cleared alarms (the event history)' }, DATA_OPTION],
    async run(ctx) {
      return (await remote(ctx)).call<AlarmRecord[]>('GET', `/api/v1/alarms${flag(ctx.args, 'all') ? '?all=true' : ''}`);
    },
    human: list,
  },
  {
    path: ['alarm', 'check'],
    summary: 'run the alarm check now; prints how many alarms were raised and cleared',
    options: [DATA_OPTION],
    async run(ctx) {
      return (await remote(ctx)).call('POST', '/api/v1/alarms/check');
    },
    human: (r) => {
      const o = r as { raised: number; cleared: number; active: number };
      return `${o.raised} raised, ${o.cleared} cleared, ${o.active} active`;
    },
  },
];
