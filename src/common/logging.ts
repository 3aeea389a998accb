import { pino, destination, stdTimeFunctions, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Paths redacted from every log record. Key material must never reach a log in the first place
 * (it lives in SecretBytes, which prints as [redacted]); this list is the second line of defence
 * for fields whose names say they may hold a secret.
 */
export const REDACT_PATHS: readonly string[] = [
  'key',
  'kek',
  'dek',
  'password',
  'passphrase',
  'secret',
  'token',
  'material',
  '*.key',
  '*.kek',
  '*.dek',
  '*.password',
  '*.passphrase',
  '*.secret',
  '*.token',
  '*.material',
  'req.headers.authorization',
  'headers.authorization',
];

export interface LoggerOptions {
  readonly service: string;
  readonly level?: string;
  readonly destination?: DestinationStream;
}

/** The root logger of a process; made once in main.ts, with a child per component. */
export function createRootLogger(opts: LoggerOptions): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      base: { service: opts.service },
      redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
      timestamp: stdTimeFunctions.isoTime,
    },
    opts.destination ?? destination({ fd: 2, sync: false }),
  );
}

/** A logger that writes nothing, for tests and library callers that pass none. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
