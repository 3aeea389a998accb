import { loadConfig, type Schema } from '../common/config.js';

/**
 * The KMS service configuration: a schema validated by loadConfig (defaults < file < env <
 * overrides), then deep-frozen. Only main.ts / the CLI pass process.env in.
 */
export interface KmsConfig {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  /** A second, HTTPS-only listener (KMIP over HTTPS, health, metrics); 0 picks a free port; absent = none. */
  readonly httpsPort?: number;
  /** postgres://… ; absent = SQLite in dataDir. */
  readonly database?: string;
  /** Largest KMIP message accepted, in bytes (the header is checked before the body is read). */
  readonly maxMessageBytes: number;
  /** Maximum nesting depth of a TTLV message. */
  readonly maxDepth: number;
  /** Refuse client certificates without the clientAuth extended key usage (on by default). */
  readonly requireClientAuthEku: boolean;
  /** Idle connections are closed after this many milliseconds. */
  readonly idleTimeoutMs: number;
  /** A started message must complete within this many milliseconds, else the connection is closed. */
  readonly messageTimeoutMs: number;
  readonly logLevel: string;
}

const port = (v: unknown): string | undefined =>
  Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535 ? undefined : 'must be a port number (0-65535)';
const positiveInt = (v: unknown): string | undefined =>
  Number.isInteger(v) && (v as number) > 0 ? undefined : 'must be a positive integer';

export const KMS_CONFIG_SCHEMA: Schema = {
  dataDir: { type: 'string', required: true, env: 'CRYPTVISOR_KMS_DATA' },
  host: { type: 'string', default: '0.0.0.0', env: 'CRYPTVISOR_KMS_HOST' },
  port: { type: 'number', default: 5696, env: 'CRYPTVISOR_KMS_PORT', check: port },
  httpsPort: { type: 'number', env: 'CRYPTVISOR_KMS_HTTPS_PORT', check: port },
  database: {
    type: 'string',
    env: 'CRYPTVISOR_KMS_DATABASE',
    check: (v) => (/^postgres(ql)?:\/\//.test(v as string) ? undefined : 'must be a postgres:// URL'),
  },
  maxMessageBytes: {
    type: 'number',
    default: 1024 * 1024,
    env: 'CRYPTVISOR_KMS_MAX_MESSAGE_BYTES',
    check: (v) => positiveInt(v) ?? ((v as number) < 64 ? 'must be at least 64' : undefined),
  },
  maxDepth: { type: 'number', default: 32, check: positiveInt },
  requireClientAuthEku: { type: 'boolean', default: true, env: 'CRYPTVISOR_KMS_REQUIRE_CLIENT_AUTH_EKU' },
  idleTimeoutMs: { type: 'number', default: 300_000, check: positiveInt },
  messageTimeoutMs: { type: 'number', default: 30_000, check: positiveInt },
  logLevel: { type: 'string', default: 'info', env: 'CRYPTVISOR_LOG_LEVEL' },
};

export function loadKmsConfig(opts: {
  file?: string;
  env?: Readonly<Record<string, string | undefined>>;
  overrides?: Readonly<Record<string, unknown>>;
}): KmsConfig {
  return loadConfig<KmsConfig>({ schema: KMS_CONFIG_SCHEMA, ...opts });
}
