/**
 * The CLI's login session: `cryptvisor login` keeps center's URL, its trust (CA PEM or pinned
 * fingerprint) and a bearer token in $XDG_CONFIG_HOME/cryptvisor/session.json (else
 * $HOME/.config/…), mode 0600. With CRYPTVISOR_DATA=D (as `cryptvisor up` makes), commands log
 * in with D/credentials.json instead. The environment is passed in; process.env is never read here.
 */
import { chmod, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';
import { CenterClient, type CenterTrust } from './client.js';
import { CenterError } from './errors.js';

export type Env = Readonly<Record<string, string | undefined>>;

export interface Session {
  readonly url: string;
  readonly user: string;
  readonly token: string;
  readonly tokenId: string;
  readonly ca?: string;
  readonly fingerprint?: string;
}

export function sessionFile(env: Env): string {
  const base = env['XDG_CONFIG_HOME'] || (env['HOME'] ? join(env['HOME'], '.config') : undefined);
  if (!base)
    throw new CenterError(
      'not_logged_in',
      'neither XDG_CONFIG_HOME nor HOME is set; cannot find the login session',
    );
  return join(base, 'cryptvisor', 'session.json');
}

export async function saveSession(env: Env, s: Session): Promise<string> {
  const file = sessionFile(env);
  const dir = join(file, '..');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  await writeFileAtomic(file, JSON.stringify(s, null, 2) + '\n', { mode: 0o600 });
  return file;
}

export async function clearSession(env: Env): Promise<void> {
  await rm(sessionFile(env), { force: true });
}

async function readJson(file: string): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CenterError('not_logged_in', `cannot read ${file}`, { cause: err });
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new CenterError('not_logged_in', `${file} is not a valid JSON object`);
}

function s(o: Record<string, unknown>, k: string): string | undefined {
  return typeof o[k] === 'string' ? (o[k] as string) : undefined;
}

/** Logs in with a password and returns a client carrying the new token. */
export async function passwordLogin(
  url: string,
  trust: CenterTrust,
  user: string,
  password: string,
): Promise<{ client: CenterClient; token: string; tokenId: string; role: string }> {
  const anon = new CenterClient(url, trust);
  const r = await anon.call<{ token: string; tokenId: string; role: string }>('POST', '/api/v1/login', {
    user,
    password,
  });
  return { client: anon.withToken(r.token), token: r.token, tokenId: r.tokenId, role: r.role };
}

/** A client for the current user: from CRYPTVISOR_DATA's credentials.json, else the login session. */
export async function connectCenter(env: Env, dataDir?: string): Promise<CenterClient> {
  const d = dataDir ?? env['CRYPTVISOR_DATA'];
  if (d) {
    const creds = await readJson(join(d, 'credentials.json'));
    if (creds) {
      const url = s(creds, 'url');
      const user = s(creds, 'user');
      const password = s(creds, 'password');
      const caFile = s(creds, 'ca');
      if (!url || !user || !password || !caFile)
        throw new CenterError(
          'not_logged_in',
          `${join(d, 'credentials.json')} lacks url, user, password or ca`,
        );
      return (await passwordLogin(url, { ca: await readFile(caFile, 'utf8') }, user, password)).client;
    }
  }
  const file = sessionFile(env);
  const sess = await readJson(file);
  if (!sess)
    throw new CenterError('not_logged_in', 'not logged in to a center (cryptvisor login URL --user U)');
  const url = s(sess, 'url');
  const token = s(sess, 'token');
  if (!url || !token) throw new CenterError('not_logged_in', `${file} lacks url or token; log in again`);
  return new CenterClient(url, { ca: s(sess, 'ca'), fingerprint: s(sess, 'fingerprint') }, token);
}
