/** A center for tests: initialized in a temporary directory and served in-process over real TLS. */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CenterClient } from '../../src/center/index.js';
import {
  initCenter,
  passwordLogin,
  startCenter,
  type CenterInitResult,
  type RunningCenter,
} from '../../src/center/index.js';
import { initAgent, startAgent, type AgentInitResult, type RunningAgent } from '../../src/agent/index.js';
import { signCsr } from '../../src/common/pki.js';
import { initKms } from '../../src/kms/init.js';
import { startKms } from '../../src/kms/server.js';
import { CLI } from '../support/cli.js';

export const ADMIN_PASSWORD = 'admin-password-for-tests';

export interface TestCenter {
  readonly dir: string;
  readonly init: CenterInitResult;
  readonly running: RunningCenter;
  readonly ca: string;
  /** The environment for CLI runs: a private config home for login sessions. */
  readonly env: NodeJS.ProcessEnv;
  login(user: string, password: string): Promise<CenterClient>;
  close(): Promise<void>;
}

export async function startTestCenter(opts: { database?: string; heartbeatSeconds?: number } = {}): Promise<TestCenter> {
  const dir = await mkdtemp(join(tmpdir(), 'cv-test-center-'));
  const init = await initCenter(join(dir, 'center'), {
    adminUser: 'admin',
    adminPassword: ADMIN_PASSWORD,
    database: opts.database,
  });
  const running = await startCenter({
    dataDir: join(dir, 'center'),
    host: '127.0.0.1',
    port: 0,
    ...(opts.heartbeatSeconds !== undefined ? { heartbeatSeconds: opts.heartbeatSeconds } : {}),
  });
  const ca = await readFile(init.ca, 'utf8');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: join(dir, 'home'),
    XDG_CONFIG_HOME: join(dir, 'config'),
  };
  return {
    dir,
    init,
    running,
    ca,
    env,
    login: async (user, password) => (await passwordLogin(running.url, { ca }, user, password)).client,
    async close() {
      await running.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface CvResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  json<T = unknown>(): T;
}

/** Runs `cryptvisor` as a child process without blocking this process (which serves center). */
export function cv(
  args: readonly string[],
  opts: { env: NodeJS.ProcessEnv; input?: string },
): Promise<CvResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (status) =>
      resolve({
        status,
        stdout: out,
        stderr: err,
        json: <T>() => {
          try {
            return JSON.parse(out) as T;
          } catch {
            throw new Error(`not JSON (status ${status}): ${out}\n${err}`);
          }
        },
      }),
    );
    child.stdin.end(opts.input ?? '');
  });
}

export interface TestStack {
  readonly dir: string;
  readonly center: TestCenter;
  readonly admin: CenterClient;
  readonly agentInit: AgentInitResult;
  agent: RunningAgent;
  /** Stops the agent and starts it again on the same port (it comes back holding no keys). */
  restartAgent(): Promise<RunningAgent>;
  close(): Promise<void>;
}

/**
 * Our KMS, a center whose default provider `kms1` is that KMS (center's CSR signed by the KMS
 * CA), and an initialized, running agent (not yet enrolled). Tests that count the KMIP Gets of
 * one heartbeat pass `heartbeatSeconds: 3600`, so the periodic heartbeat cannot push first.
 */
export async function startTestStack(opts: { heartbeatSeconds?: number } = {}): Promise<TestStack> {
  const dir = await mkdtemp(join(tmpdir(), 'cv-center-stack-'));
  const kmsInit = await initKms({ dataDir: join(dir, 'kms'), sans: ['127.0.0.1'] });
  const kms = await startKms({ dataDir: join(dir, 'kms'), host: '127.0.0.1', port: 0, logLevel: 'silent' });
  const center = await startTestCenter(opts);
  const admin = await center.login('admin', ADMIN_PASSWORD);
  await admin.call('POST', '/api/v1/providers', {
    name: 'kms1',
    servers: `127.0.0.1:${kms.port}`,
    ca: await readFile(kmsInit.ca, 'utf8'),
  });
  const { csr } = await admin.call<{ csr: string }>('POST', '/api/v1/providers/kms1/csr');
  await admin.call('PUT', '/api/v1/providers/kms1/certificate', {
    cert: await signCsr(kmsInit.pkiDir, csr, { kind: 'client' }),
  });
  const agentInit = await initAgent(join(dir, 'agent'), join(dir, 'datastore'), { sans: ['127.0.0.1'] });
  const stack: TestStack = {
    dir,
    center,
    admin,
    agentInit,
    agent: await startAgent({ dataDir: join(dir, 'agent'), host: '127.0.0.1', port: 0 }),
    async restartAgent() {
      const port = stack.agent.port;
      await stack.agent.close();
      stack.agent = await startAgent({ dataDir: join(dir, 'agent'), host: '127.0.0.1', port });
      return stack.agent;
    },
    async close() {
      await stack.agent.close();
      await center.close();
      await kms.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return stack;
}
