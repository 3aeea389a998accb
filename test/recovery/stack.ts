/**
 * A small system for the recovery tests: our KMS in D/kms (the layout of `cryptvisor up`, with
 * D/run/endpoints.json), and a real agent with a datastore, enrolled by a test center identity,
 * holding a KEK from that KMS. Everything runs in this process, so CLI runs go through `cvAsync`.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { initAgent, startAgent, type RunningAgent } from '../../src/agent/index.js';
import { KmipClient } from '../../src/kmip/index.js';
import { initKms, type InitKmsResult } from '../../src/kms/init.js';
import { startKms, type RunningKms } from '../../src/kms/server.js';
import { agentCall, centerTls, type ClientTls, type Json } from '../support/agent-api.js';
import { CLI, prng } from '../support/cli.js';

export interface RecoveryStack {
  readonly root: string;
  /** The `cryptvisor up`-style directory: D/kms, D/run/endpoints.json, D/datastore. */
  readonly data: string;
  readonly kmsInit: InitKmsResult;
  readonly kmsPort: number;
  /** A KMIP client with the KMS administrator identity. */
  readonly admin: KmipClient;
  agentCall(method: string, path: string, body?: unknown): Promise<{ status: number; json: Json }>;
  /** Create + Activate + Get of a KEK, pushed to the agent under provider `kms1`. */
  newKek(): Promise<string>;
  /** The KMIP flags of `disk recover` with the administrator identity. */
  kmsFlags(): string[];
  stopAgent(): Promise<void>;
  stopKms(): Promise<void>;
  close(): Promise<void>;
}

export async function startRecoveryStack(opts: { agent?: boolean } = {}): Promise<RecoveryStack> {
  const root = await mkdtemp(join(tmpdir(), 'cv-recovery-'));
  const data = join(root, 'D');
  const kmsInit = await initKms({ dataDir: join(data, 'kms'), sans: ['127.0.0.1', 'localhost'] });
  let kms: RunningKms | undefined = await startKms({
    dataDir: join(data, 'kms'),
    host: '127.0.0.1',
    port: 0,
    logLevel: 'silent',
  });
  const kmsPort = kms.port;
  await mkdir(join(data, 'run'), { recursive: true });
  await writeFile(
    join(data, 'run', 'endpoints.json'),
    JSON.stringify({ kms: { kmip: `127.0.0.1:${kmsPort}` } }),
  );
  const [ca, cert, key] = await Promise.all(
    [kmsInit.ca, kmsInit.adminCert, kmsInit.adminKey].map((f) => readFile(f, 'utf8')),
  );
  const admin = new KmipClient({
    servers: [{ host: '127.0.0.1', port: kmsPort }],
    ca: ca as string,
    cert: cert as string,
    key: key as string,
  });

  let agent: RunningAgent | undefined;
  let center: ClientTls | undefined;
  if (opts.agent !== false) {
    const dir = join(root, 'host-1');
    const init = await initAgent(dir, join(data, 'datastore'));
    center = await centerTls(root, dir);
    agent = await startAgent({ dataDir: dir });
    const enrolled = await agentCall(agent.port, center, 'POST', '/api/v1/enroll', {
      token: init.enrollmentToken,
    });
    assert.equal(enrolled.status, 200);
  }
  const call = (method: string, path: string, body?: unknown) => {
    if (!agent || !center) throw new Error('this stack has no agent');
    return agentCall(agent.port, center, method, path, body);
  };
  return {
    root,
    data,
    kmsInit,
    kmsPort,
    admin,
    agentCall: call,
    async newKek() {
      const keyId = await admin.create({ algorithm: 'AES', length: 256, usageMask: ['Encrypt', 'Decrypt'] });
      await admin.activate(keyId);
      if (agent) {
        const kek = (await admin.get(keyId)).material;
        const pushed = await call('PUT', `/api/v1/keys/kms1/${keyId}`, {
          key: kek.use((b) => b.toString('base64')),
        });
        kek.dispose();
        assert.equal(pushed.status, 200);
      }
      return keyId;
    },
    kmsFlags: () => [
      '--kms',
      `127.0.0.1:${kmsPort}`,
      '--ca',
      kmsInit.ca,
      '--cert',
      kmsInit.adminCert,
      '--key',
      kmsInit.adminKey,
    ],
    async stopAgent() {
      await agent?.close();
      agent = undefined;
    },
    async stopKms() {
      admin.close();
      await kms?.close();
      kms = undefined;
    },
    async close() {
      await agent?.close();
      admin.close();
      await kms?.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

export interface CvRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `cryptvisor` without blocking this process (which serves the KMS and the agent). */
export function cvAsync(args: readonly string[], input?: string): Promise<CvRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout: out, stderr: err }));
    child.stdin.end(input ?? '');
  });
}

/** The independent LUKS2 payload decryptor (python3-cryptography) of test/luks. */
export const DECRYPTOR = fileURLToPath(new URL('../../../test/luks/luks2-decrypt.py', import.meta.url));

export const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** n bytes (a multiple of 4) from a fixed seed: the same data on every run. */
export function seededBytes(n: number, seed: number): Buffer {
  const next = prng(seed);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i += 4) b.writeUInt32LE(Math.floor(next() * 0x100000000), i);
  return b;
}
