/**
 * `cryptvisor center init`: center's data directory — configuration, its own PKI in D/pki (CA,
 * TLS server certificate for localhost/127.0.0.1, and the client certificate `center-client`,
 * center's identity toward agents and key providers), the database, and the first Administrator.
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';
import { initCa, issueCertificate } from '../common/pki.js';
import { centerConfigPath } from './config.js';
import { CenterError } from './errors.js';
import { generatePassword, hashPassword } from './passwords.js';
import { CenterStore } from './store/index.js';

export interface CenterInitOptions {
  readonly database?: string | undefined;
  readonly adminUser?: string | undefined;
  /** Taken as given; otherwise a random one is generated and returned once. */
  readonly adminPassword?: string | undefined;
  readonly port?: number | undefined;
  readonly sans?: readonly string[] | undefined;
}

export interface CenterInitResult {
  readonly dataDir: string;
  readonly user: string;
  /** Present only when center generated it. */
  readonly password?: string;
  readonly ca: string;
  readonly fingerprint: string;
  readonly clientFingerprint: string;
}

export async function initCenter(dataDir: string, opts: CenterInitOptions = {}): Promise<CenterInitResult> {
  const dir = resolve(dataDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if ((await readdir(dir)).includes('center.json'))
    throw new CenterError('center_exists', `${dir} already holds a center; refusing to initialize it again`);
  if (opts.adminPassword !== undefined && opts.adminPassword.length < 8)
    throw new CenterError('invalid_request', 'the administrator password must have at least 8 characters');
  const pki = join(dir, 'pki');
  await initCa(pki, { commonName: 'cryptvisor center CA' });
  const server = await issueCertificate(
    pki,
    'server',
    { kind: 'server', sans: [...(opts.sans ?? ['localhost', '127.0.0.1'])] },
    { commonName: 'cryptvisor-center' },
  );
  const client = await issueCertificate(
    pki,
    'center-client',
    { kind: 'client' },
    { commonName: 'center-client' },
  );
  const user = opts.adminUser ?? 'administrator';
  const password = opts.adminPassword ?? generatePassword();
  const store = await CenterStore.open({ dataDir: dir, database: opts.database });
  try {
    await store.createUser(user, 'Administrator', await hashPassword(password));
    await store.appendAudit({ actor: 'center init', action: 'user.create', target: user, result: 'ok' });
  } finally {
    await store.close();
  }
  const config = { port: opts.port ?? 0, ...(opts.database ? { database: opts.database } : {}) };
  await writeFileAtomic(centerConfigPath(dir), JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  const caFile = join(pki, 'ca.pem');
  return {
    dataDir: dir,
    user,
    ...(opts.adminPassword === undefined ? { password } : {}),
    ca: caFile,
    fingerprint: server.fingerprintSha256,
    clientFingerprint: client.fingerprintSha256,
  };
}
