/**
 * `cryptvisor agent init`: the agent's data directory — configuration, its own CA and TLS server
 * certificate, and a one-time enrollment token (printed once, kept only as a hash).
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { certificateInfo, initCa, issueCertificate } from '../common/pki.js';
import { agentConfigPath } from './config.js';
import { writeFileAtomic } from './datastore.js';
import { Enrollment } from './enrollment.js';
import { AgentError } from './errors.js';

export interface AgentInitResult {
  readonly dataDir: string;
  readonly hostId: string;
  readonly datastore: string;
  readonly enrollmentToken: string;
  readonly fingerprint: string;
}

export async function initAgent(dataDir: string, datastore: string, opts: { sans?: readonly string[]; port?: number } = {}): Promise<AgentInitResult> {
  const dir = resolve(dataDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if ((await readdir(dir)).includes('agent.json')) throw new AgentError('already_enrolled', `${dir} already holds an agent; refusing to initialize it again`);
  const ds = resolve(datastore);
  await mkdir(ds, { recursive: true });
  const hostId = randomUUID();
  const pki = join(dir, 'pki');
  await mkdir(pki, { recursive: true, mode: 0o700 });
  await initCa(pki, { commonName: `cryptvisor agent CA ${hostId.slice(0, 8)}` });
  const sans = opts.sans ?? ['localhost', '127.0.0.1', hostname()];
  await issueCertificate(pki, 'server', { kind: 'server', sans }, { commonName: `cryptvisor-agent-${hostId.slice(0, 8)}` });
  const token = await Enrollment.create(dir);
  await writeFileAtomic(agentConfigPath(dir), JSON.stringify({ hostId, datastore: ds, port: opts.port ?? 0 }, null, 2) + '\n', 0o600);
  const fingerprint = certificateInfo(await readFile(join(pki, 'server.pem'), 'utf8')).fingerprintSha256;
  return { dataDir: dir, hostId, datastore: ds, enrollmentToken: token, fingerprint };
}
