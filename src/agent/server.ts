/**
 * The host agent service: HTTPS with mutual TLS (the agent API), the VM manager, and the key cache.
 * `startAgent` builds it from a data directory and listens; tests and `agent serve` use it.
 */
import { mkdir, chmod } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Logger } from '../common/logging.js';
import { silentLogger } from '../common/logging.js';
import { handleRequest, type ApiContext } from './api.js';
import { AgentCertificates, finishCutActivation, readServedPair } from './certificate.js';
import { loadAgentConfig } from './config.js';
import { Datastore } from './datastore.js';
import { DumpWriter } from './dumps.js';
import { Enrollment } from './enrollment.js';
import { KeyCache } from './keys.js';
import { AgentState } from './state.js';
import { VmManager } from './vm-manager.js';

export const AGENT_VERSION = '0.1.0';

export interface StartAgentOptions {
  readonly dataDir: string;
  readonly host?: string;
  readonly port?: number;
  readonly logger?: Logger;
}

export interface RunningAgent {
  readonly port: number;
  readonly url: string;
  readonly hostId: string;
  readonly vms: VmManager;
  readonly keys: KeyCache;
  /** Sealed dumps under the host key (docs/agent.md). */
  readonly dumps: DumpWriter;
  close(): Promise<void>;
}

/** A private directory for NBD sockets whose paths stay under 100 bytes. */
async function socketDir(dataDir: string, hostId: string): Promise<string> {
  let dir = join(dataDir, 'run', 'nbd');
  if (Buffer.byteLength(dir) > 60) dir = join(tmpdir(), `cryptvisor-nbd-${hostId.slice(0, 8)}`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  return dir;
}

export async function startAgent(opts: StartAgentOptions): Promise<RunningAgent> {
  const dataDir = resolve(opts.dataDir);
  const cfg = loadAgentConfig(dataDir);
  const logger = opts.logger ?? silentLogger();
  const keys = new KeyCache();
  const enrollment = await Enrollment.load(dataDir);
  const state = await AgentState.load(dataDir);
  const vms = new VmManager({
    hostId: cfg.hostId,
    datastore: new Datastore(cfg.datastore),
    keys,
    state,
    socketDir: await socketDir(dataDir, cfg.hostId),
    logger: logger.child({ component: 'vms' }),
    onUnlock: cfg.onUnlock,
    conversionChunkBytes: cfg.conversionChunkBytes,
  });
  await vms.load();
  const dumps = new DumpWriter({ dataDir, hostId: cfg.hostId, keys, logger: logger.child({ component: 'dumps' }) });
  const pki = join(dataDir, 'pki');
  // An activation of a renewed certificate cut short by a crash is completed before serving.
  if (await finishCutActivation(pki)) logger.info({}, 'completed the activation of a renewed server certificate');
  const served = await readServedPair(pki);
  // The certificate routes switch the running server to a renewed pair (new connections only).
  const live: { server?: Server } = {};
  const certificates = new AgentCertificates(pki, (pair) => live.server?.setSecureContext({ ...pair, minVersion: 'TLSv1.2' }));
  const ctx: ApiContext = { hostId: cfg.hostId, keys, vms, enrollment, logger: logger.child({ component: 'api' }), version: AGENT_VERSION, dumps, certificates };
  let server: Server;
  try {
    server = createServer(
      {
        ...served,
        requestCert: true,
        // Center's certificate is pinned by fingerprint at enrollment, not chained to a CA.
        rejectUnauthorized: false,
        minVersion: 'TLSv1.2',
      },
      (req, res) => void handleRequest(ctx, req, res),
    );
  } finally {
    served.key.fill(0);
  }
  live.server = server;
  const host = opts.host ?? cfg.host;
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(opts.port ?? cfg.port, host, () => res());
  });
  const port = (server.address() as AddressInfo).port;
  logger.info({ port, host, hostId: cfg.hostId }, 'agent listening');
  return {
    port,
    url: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    hostId: cfg.hostId,
    vms,
    keys,
    dumps,
    async close() {
      await new Promise<void>((res) => {
        server.close(() => res());
        server.closeAllConnections();
      });
      await vms.close();
      keys.clear();
    },
  };
}
