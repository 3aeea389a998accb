/** `cryptvisor kms init|serve|backup|restore|rotate-root-key` (DESIGN.md §10, docs/kms.md). */
import { CommonError } from '../../common/errors.js';
import { initKms, type InitKmsResult } from '../../kms/init.js';
import { backup, restore, type BackupResult, type RestoreResult } from '../../kms/backup.js';
import { nodeDatabase, startKms } from '../../kms/server.js';
import { rotateRootKey, type RotateResult } from '../../kms/store/rotate.js';
import { str, type CommandContext, type CommandSpec } from '../command.js';

function port(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[0-9]+$/.test(v) || Number(v) > 65535) throw new CommonError('usage', `--${name} must be a port number`);
  return Number(v);
}

function data(ctx: CommandContext): string {
  return str(ctx.args, 'data') as string;
}

const DATA = { name: 'data', type: 'string', required: true, valueName: 'D', help: 'the KMS data directory' } as const;
const DATABASE = { name: 'database', type: 'string', valueName: 'URL', help: 'postgres://… (default: SQLite in D)' } as const;

/** Runs `kms serve` in the foreground until ctx.signal (SIGINT/SIGTERM). */
async function serve(ctx: CommandContext): Promise<unknown> {
  const host = str(ctx.args, 'host');
  const p = port(str(ctx.args, 'port'), 'port');
  const hp = port(str(ctx.args, 'https-port'), 'https-port');
  const database = str(ctx.args, 'database');
  const kms = await startKms({
    dataDir: data(ctx),
    env: ctx.env,
    logger: ctx.logger,
    ...(host !== undefined ? { host } : {}),
    ...(p !== undefined ? { port: p } : {}),
    ...(hp !== undefined ? { httpsPort: hp } : {}),
    ...(database !== undefined ? { database } : {}),
  });
  const shown = kms.host === '0.0.0.0' || kms.host === '::' ? '127.0.0.1' : kms.host;
  const listening = {
    kmip: `${shown}:${kms.port}`,
    https: `https://${shown}:${kms.port}`,
    ...(kms.httpsPort !== undefined ? { httpsOnly: `https://${shown}:${kms.httpsPort}` } : {}),
  };
  if (ctx.json) ctx.stdout.write(JSON.stringify({ listening }) + '\n');
  else {
    ctx.stdout.write(`KMIP (TTLV over mutual TLS) listening on ${kms.host}:${kms.port}\n`);
    ctx.stdout.write(`KMIP over HTTPS, /health, /metrics on https://${shown}:${kms.port}\n`);
    if (kms.httpsPort !== undefined) ctx.stdout.write(`HTTPS also on https://${shown}:${kms.httpsPort}\n`);
  }
  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) resolve();
    else ctx.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await kms.close();
  return undefined;
}

/** The database a command uses: --database, else the one `kms init` recorded for the node. */
function database(ctx: CommandContext): string | undefined {
  return str(ctx.args, 'database') ?? nodeDatabase(data(ctx));
}

export const KMS_COMMANDS: readonly CommandSpec[] = [
  {
    path: ['kms', 'init'],
    summary: 'create a KMS: root key, store and PKI in D (or join another node with --join)',
    options: [
      DATA,
      DATABASE,
      { name: 'san', type: 'string', valueName: 'LIST', help: 'server certificate names (default localhost,127.0.0.1,::1,hostname)' },
      { name: 'join', type: 'string', valueName: 'OTHER_D', help: "another node's data dir: copy its root key and CA" },
    ],
    async run(ctx) {
      const san = str(ctx.args, 'san');
      const database = str(ctx.args, 'database');
      const join = str(ctx.args, 'join');
      return initKms({
        dataDir: data(ctx),
        ...(database !== undefined ? { database } : {}),
        ...(san !== undefined ? { sans: san.split(',').map((s) => s.trim()).filter((s) => s.length > 0) } : {}),
        ...(join !== undefined ? { join } : {}),
        logger: ctx.logger,
      });
    },
    human(result) {
      const r = result as InitKmsResult;
      return [
        r.joined ? `KMS node initialized in ${r.dataDir} (joined ${r.joined})` : `KMS initialized in ${r.dataDir}`,
        `CA certificate:           ${r.ca}`,
        `admin client certificate: ${r.adminCert}`,
        `admin client key:         ${r.adminKey}`,
      ].join('\n');
    },
  },
  {
    path: ['kms', 'serve'],
    summary: 'serve KMIP over mutual TLS (and HTTPS) until interrupted',
    options: [
      DATA,
      { name: 'host', type: 'string', valueName: 'H', help: 'address to listen on (default 0.0.0.0)' },
      { name: 'port', type: 'string', valueName: 'P', help: 'KMIP port (default 5696; 0 = any free port)' },
      { name: 'https-port', type: 'string', valueName: 'P', help: 'an extra HTTPS-only port' },
      DATABASE,
    ],
    run: serve,
  },
  {
    path: ['kms', 'backup'],
    summary: 'write a consistent, sealed and authenticated backup of the KMS store',
    options: [DATA, { name: 'out', type: 'string', required: true, valueName: 'FILE', help: 'the backup file to write' }, DATABASE],
    async run(ctx) {
      const db = database(ctx);
      return backup({ dataDir: data(ctx), ...(db !== undefined ? { database: db } : {}) }, str(ctx.args, 'out') as string);
    },
    human: (r) => {
      const b = r as BackupResult;
      return `backup of ${b.objects} objects written to ${b.file}`;
    },
  },
  {
    path: ['kms', 'restore'],
    summary: 'restore a backup into the (empty) store of D, with the same root key',
    options: [DATA, { name: 'in', type: 'string', required: true, valueName: 'FILE', help: 'the backup file to read' }, DATABASE],
    async run(ctx) {
      const db = database(ctx);
      return restore({ dataDir: data(ctx), ...(db !== undefined ? { database: db } : {}) }, str(ctx.args, 'in') as string);
    },
    human: (r) => {
      const b = r as RestoreResult;
      return `restored ${b.objects} objects from ${b.file}`;
    },
  },
  {
    path: ['kms', 'rotate-root-key'],
    summary: 're-seal every object under a new root key (run with the KMS stopped)',
    options: [DATA, DATABASE],
    async run(ctx) {
      const db = database(ctx);
      return rotateRootKey({ dataDir: data(ctx), ...(db !== undefined ? { database: db } : {}), logger: ctx.logger });
    },
    human: (r) => {
      const x = r as RotateResult;
      return `root key rotated: ${x.oldRootKeyId} -> ${x.newRootKeyId}, ${x.resealed} objects re-sealed`;
    },
  },
];
