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

export async function startTestCenter(opts: { database?: string } = {}): Promise<TestCenter> {
  const dir = await mkdtemp(join(tmpdir(), 'cv-test-center-'));
  const init = await initCenter(join(dir, 'center'), {
    adminUser: 'admin',
    adminPassword: ADMIN_PASSWORD,
    database: opts.database,
  });
  const running = await startCenter({ dataDir: join(dir, 'center'), host: '127.0.0.1', port: 0 });
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
