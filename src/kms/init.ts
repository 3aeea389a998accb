import { existsSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { CommonError } from '../common/errors.js';
import { initCa, issueCertificate } from '../common/pki.js';
import type { Logger } from '../common/logging.js';
import { NODE_CONFIG_FILE, PKI_DIR } from './server.js';
import { ROOT_KEY_FILE, RootKey, assertNoStore, openStore } from './store/index.js';

/**
 * `kms init`: a new KMS data dir (root key 0600, store, PKI with CA, server and admin
 * certificates), or with `join` another node of an existing KMS: the same root key and CA (and
 * admin identity), its own server certificate. Refuses a dir that already holds a root key or a store.
 */
export interface InitKmsOptions {
  readonly dataDir: string;
  readonly database?: string;
  /** Server certificate SANs; default localhost, 127.0.0.1, ::1 and the host name. */
  readonly sans?: readonly string[];
  readonly join?: string;
  readonly logger?: Logger;
}

export interface InitKmsResult {
  readonly dataDir: string;
  readonly pkiDir: string;
  readonly ca: string;
  readonly serverCert: string;
  readonly adminCert: string;
  readonly adminKey: string;
  readonly joined: string | undefined;
}


export function defaultSans(): string[] {
  return [...new Set(['localhost', '127.0.0.1', '::1', hostname()])];
}

export async function initKms(opts: InitKmsOptions): Promise<InitKmsResult> {
  const d = opts.dataDir;
  if (existsSync(join(d, ROOT_KEY_FILE))) {
    throw new CommonError('file_exists', `${d} already holds a KMS (root key or store); refusing to initialize it again`);
  }
  // A joining node shares the other node's PostgreSQL store; a new KMS must not find one.
  if (opts.join === undefined) await assertNoStore({ dataDir: d, ...(opts.database ? { database: opts.database } : {}) }).catch((err: unknown) => {
    throw new CommonError('file_exists', `${opts.database ? 'the database' : d} already holds a KMS store; refusing to initialize it again`, { cause: err });
  });
  if (opts.join !== undefined && !existsSync(join(opts.join, ROOT_KEY_FILE))) {
    throw new CommonError('file_not_found', `${opts.join} is not a KMS data dir (no root key)`);
  }
  await mkdir(d, { recursive: true, mode: 0o700 });
  const pki = join(d, PKI_DIR);
  await mkdir(pki, { recursive: true, mode: 0o700 });
  let rootKey: RootKey;
  if (opts.join !== undefined) {
    const from = join(opts.join, PKI_DIR);
    for (const f of ['ca.pem', 'ca.key', 'admin.pem', 'admin.key']) {
      if (existsSync(join(pki, f))) throw new CommonError('file_exists', `${join(pki, f)} exists already`);
      await copyFile(join(from, f), join(pki, f));
    }
    rootKey = await RootKey.copy(opts.join, d);
  } else {
    await initCa(pki, { commonName: 'cryptvisor KMS CA' });
    await issueCertificate(pki, 'admin', { kind: 'client' }, { commonName: 'admin' });
    rootKey = await RootKey.create(d);
  }
  await issueCertificate(pki, 'server', { kind: 'server', sans: opts.sans && opts.sans.length > 0 ? opts.sans : defaultSans() });
  const store = await openStore({ dataDir: d, ...(opts.database ? { database: opts.database } : {}), rootKey, ...(opts.logger ? { logger: opts.logger } : {}) });
  await store.close();
  rootKey.dispose();
  if (opts.database) await writeFile(join(d, NODE_CONFIG_FILE), JSON.stringify({ database: opts.database }, null, 2) + '\n', { mode: 0o600 });
  return {
    dataDir: d,
    pkiDir: pki,
    ca: join(pki, 'ca.pem'),
    serverCert: join(pki, 'server.pem'),
    adminCert: join(pki, 'admin.pem'),
    adminKey: join(pki, 'admin.key'),
    joined: opts.join,
  };
}
