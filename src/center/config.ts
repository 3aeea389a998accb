/** center's configuration, `D/center.json`, written by `center init`. */
import { join } from 'node:path';
import { loadConfig, type Schema } from '../common/config.js';

export interface CenterConfig {
  readonly host: string;
  readonly port: number;
  /** A postgres:// URL; empty for SQLite in D/center.db. */
  readonly database: string;
  /** Lifetime of a login session token, in hours. */
  readonly sessionHours: number;
  /** Seconds between heartbeats of every host. */
  readonly heartbeatSeconds: number;
  /** Seconds a fetched KEK stays in center's memory cache; 0 (the default) turns the cache off. */
  readonly kekCacheSeconds: number;
  /** Seconds between alarm checks (alarms.ts); 0 checks only on demand and after heartbeats. */
  readonly alarmCheckSeconds: number;
}

const port = (v: unknown): string | undefined =>
  Number.isInteger(v) && (v as number) >= 0 && (v as number) < 65536 ? undefined : 'must be a port number';

export const CENTER_SCHEMA: Schema = {
  host: { type: 'string', default: '127.0.0.1' },
  port: { type: 'number', default: 0, check: port },
  database: { type: 'string', default: '' },
  heartbeatSeconds: {
    type: 'number',
    default: 5,
    check: (v) =>
      (v as number) >= 0.1 && (v as number) <= 3600 ? undefined : 'must be between 0.1 and 3600 seconds',
  },
  kekCacheSeconds: {
    type: 'number',
    default: 0,
    check: (v) => ((v as number) >= 0 && (v as number) <= 86_400 ? undefined : 'must be 0 to 86400 seconds'),
  },
  alarmCheckSeconds: {
    type: 'number',
    default: 60,
    check: (v) => ((v as number) >= 0 && (v as number) <= 86_400 ? undefined : 'must be 0 to 86400 seconds'),
  },
  sessionHours: {
    type: 'number',
    default: 12,
    check: (v) =>
      (v as number) > 0 && (v as number) <= 24 * 90 ? undefined : 'must be between 0 and 2160 hours',
  },
};

export function centerConfigPath(dataDir: string): string {
  return join(dataDir, 'center.json');
}

export function loadCenterConfig(
  dataDir: string,
  overrides: Partial<CenterConfig> = {},
): Readonly<CenterConfig> {
  return loadConfig<CenterConfig>({ schema: CENTER_SCHEMA, file: centerConfigPath(dataDir), overrides });
}
