import { existsSync, readFileSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import type { Server as TlsServer } from 'node:tls';
import { CommonError } from '../common/errors.js';
import { createRootLogger, silentLogger, type Logger } from '../common/logging.js';
import { AuditLog } from './audit.js';
import { loadKmsConfig, type KmsConfig } from './config.js';
import { subjectOfPemFile } from './identity.js';
import { createKmsService, type KmsService } from './service.js';
import { RootKey, openStore, type KmsStore } from './store/index.js';
import { createKmsListener } from './transport/tls-server.js';

/**
 * Starting the KMS from a data dir made by `kms init`: the root key, the store, the audit log,
 * the PKI in D/pki (server.pem/key, ca.pem, admin.pem for the admin identity), and the
 * listeners: KMIP + HTTPS on `port` (0 = a free port) and HTTPS only on `httpsPort` if given.
 */
export interface StartKmsOptions extends Partial<Omit<KmsConfig, 'dataDir'>> {
  readonly dataDir: string;
  readonly logger?: Logger;
  /** Environment for config variables (CRYPTVISOR_KMS_*); only the CLI passes process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** A JSON config file (fields of KmsConfig). */
  readonly configFile?: string;
}

export interface RunningKms {
  readonly host: string;
  readonly port: number;
  readonly httpsPort: number | undefined;
  readonly config: KmsConfig;
  readonly service: KmsService;
  readonly store: KmsStore;
  close(): Promise<void>;
}

export const PKI_DIR = 'pki';
/** Per-node settings `kms init` records for `kms serve` (the database URL). */
export const NODE_CONFIG_FILE = 'kms.json';

/** The database URL a node was initialized with (D/kms.json), if any. */
export function nodeDatabase(dataDir: string): string | undefined {
  const file = join(dataDir, NODE_CONFIG_FILE);
  if (!existsSync(file)) return undefined;
  const v = (JSON.parse(readFileSync(file, 'utf8')) as { database?: unknown }).database;
  return typeof v === 'string' ? v : undefined;
}

function listen(server: TlsServer, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(new CommonError('usage', `cannot listen on ${host}:${port}: ${err.message}`, { cause: err }));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function readPki(dataDir: string): { key: Buffer; cert: Buffer; ca: Buffer; adminSubject: string } {
  const dir = join(dataDir, PKI_DIR);
  try {
    return {
      key: readFileSync(join(dir, 'server.key')),
      cert: readFileSync(join(dir, 'server.pem')),
      ca: readFileSync(join(dir, 'ca.pem')),
      adminSubject: subjectOfPemFile(join(dir, 'admin.pem')),
    };
  } catch (err) {
    throw new CommonError('file_not_found', `${dir} lacks the KMS certificates; run: cryptvisor kms init --data ${dataDir}`, { cause: err });
  }
}

export async function startKms(opts: StartKmsOptions): Promise<RunningKms> {
  const { logger: givenLogger, env, configFile: given, ...overrides } = opts;
  const nodeFile = join(opts.dataDir, NODE_CONFIG_FILE);
  const configFile = given ?? (existsSync(nodeFile) ? nodeFile : undefined);
  const config = loadKmsConfig({ ...(configFile ? { file: configFile } : {}), ...(env ? { env } : {}), overrides });
  const logger =
    givenLogger?.child({ component: 'kms' }) ??
    (config.logLevel === 'silent' ? silentLogger() : createRootLogger({ service: 'kms', level: config.logLevel }));
  const pki = readPki(config.dataDir);
  const rootKey = await RootKey.load(config.dataDir);
  const store = await openStore({ dataDir: config.dataDir, ...(config.database ? { database: config.database } : {}), rootKey, logger });
  const audit = new AuditLog(store, { logger });
  const service = createKmsService({ store, audit, logger, maxMessageBytes: config.maxMessageBytes, maxDepth: config.maxDepth });
  const common = {
    key: pki.key,
    cert: pki.cert,
    ca: pki.ca,
    adminSubject: pki.adminSubject,
    requireClientAuthEku: config.requireClientAuthEku,
    maxMessageBytes: config.maxMessageBytes,
    idleTimeoutMs: config.idleTimeoutMs,
    messageTimeoutMs: config.messageTimeoutMs,
    handler: service.handler,
    metrics: service.metrics,
    logger,
  };
  const servers: TlsServer[] = [];
  const sockets = new Set<Socket>();
  const track = (s: TlsServer): TlsServer => {
    s.on('secureConnection', (sock) => {
      sockets.add(sock);
      sock.once('close', () => sockets.delete(sock));
    });
    servers.push(s);
    return s;
  };
  let port: number;
  let httpsPort: number | undefined;
  try {
    port = await listen(track(createKmsListener({ ...common, mode: 'mixed' })), config.host, config.port);
    if (config.httpsPort !== undefined) {
      httpsPort = await listen(track(createKmsListener({ ...common, mode: 'https' })), config.host, config.httpsPort);
    }
  } catch (err) {
    for (const s of servers) s.close();
    await audit.close();
    await store.close();
    throw err;
  }
  logger.info({ host: config.host, port, httpsPort }, 'KMS listening');
  let closed: Promise<void> | undefined;
  return {
    host: config.host,
    port,
    httpsPort,
    config,
    service,
    store,
    close() {
      closed ??= (async () => {
        await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))).concat([
          (async () => {
            for (const sock of sockets) sock.destroy();
          })(),
        ]));
        await audit.close();
        await store.close();
        rootKey.dispose();
      })();
      return closed;
    },
  };
}
