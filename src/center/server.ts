/**
 * The center service: HTTPS (server certificate from D/pki) serving the REST API. `startCenter`
 * opens and migrates the store and listens; `center serve` and tests use it.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import type { Logger } from '../common/logging.js';
import { silentLogger } from '../common/logging.js';
import { AlarmService } from './alarms.js';
import { handleRequest } from './api.js';
import { Auth } from './auth.js';
import { loadCenterConfig } from './config.js';
import type { HostManager } from './hosts.js';
import { KekCache } from './kek-cache.js';
import {
  CenterMetrics,
  countRequests,
  MeteredProviderManager,
  ObservedHostManager,
  serveMetrics,
} from './metrics.js';
import type { ProviderManager } from './providers.js';
import { VmService } from './vms.js';
import { PolicyService } from './policies.js';
import { TASK_KINDS } from './task-kinds.js';
import { TaskService } from './tasks.js';
import type { CenterServices } from './routes.js';
import { CenterStore } from './store/index.js';

export const CENTER_VERSION = '0.1.0';

export interface StartCenterOptions {
  readonly dataDir: string;
  readonly host?: string | undefined;
  readonly port?: number | undefined;
  readonly logger?: Logger | undefined;
  readonly heartbeatSeconds?: number | undefined;
  readonly alarmCheckSeconds?: number | undefined;
}

export interface RunningCenter {
  readonly port: number;
  readonly url: string;
  readonly store: CenterStore;
  readonly providers: ProviderManager;
  readonly hosts: HostManager;
  readonly alarms: AlarmService;
  readonly metrics: CenterMetrics;
  readonly tasks: TaskService;
  close(): Promise<void>;
}

export async function startCenter(opts: StartCenterOptions): Promise<RunningCenter> {
  const dataDir = resolve(opts.dataDir);
  const cfg = loadCenterConfig(dataDir);
  const logger = opts.logger ?? silentLogger();
  const store = await CenterStore.open({ dataDir, database: cfg.database || undefined });
  const metrics = new CenterMetrics();
  const providers = new MeteredProviderManager(metrics, store, dataDir, logger.child({ component: 'providers' }));
  const hosts = new ObservedHostManager(metrics, store, providers, dataDir, logger.child({ component: 'hosts' }));
  hosts.kekCache = new KekCache(cfg.kekCacheSeconds);
  const alarms = new AlarmService(store, providers, hosts, dataDir, logger.child({ component: 'alarms' }));
  hosts.observe = (r) => alarms.onHeartbeat(r);
  metrics.activeAlarms = () => alarms.activeByKind();
  const svc: CenterServices = {
    store,
    auth: new Auth(store, cfg.sessionHours),
    providers,
    hosts,
    vms: new VmService(store, hosts),
    tasks: new TaskService(store, logger.child({ component: 'tasks' })),
    policies: new PolicyService(store, providers, hosts),
    alarms,
    metrics,
    version: CENTER_VERSION,
  };
  for (const k of TASK_KINDS) svc.tasks.register(k);
  metrics.tasks = () => svc.tasks.list({ limit: 100_000 });
  const pki = join(dataDir, 'pki');
  let server: Server;
  try {
    server = createServer(
      {
        key: await readFile(join(pki, 'server.key')),
        cert: await readFile(join(pki, 'server.pem')),
        minVersion: 'TLSv1.2',
      },
      (req, res) => {
        countRequests(metrics, req, res);
        if ((req.url ?? '').split('?')[0] === '/metrics') void serveMetrics(svc, req, res);
        else void handleRequest(svc, logger.child({ component: 'api' }), req, res);
      },
    );
    const host = opts.host ?? cfg.host;
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(opts.port ?? cfg.port, host, () => res());
    });
  } catch (err) {
    providers.close();
    await store.close();
    throw err;
  }
  const host = opts.host ?? cfg.host;
  const port = (server.address() as AddressInfo).port;
  hosts.start((opts.heartbeatSeconds ?? cfg.heartbeatSeconds) * 1000);
  alarms.start((opts.alarmCheckSeconds ?? cfg.alarmCheckSeconds) * 1000);
  await svc.tasks.resume(svc);
  svc.policies.startReconciler(svc, logger.child({ component: 'reconciler' }));
  logger.info({ port, host, database: store.dialect }, 'center listening');
  return {
    port,
    url: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    store,
    providers,
    hosts,
    alarms,
    metrics,
    tasks: svc.tasks,
    async close() {
      await new Promise<void>((res) => {
        server.close(() => res());
        server.closeAllConnections();
      });
      await svc.policies.close();
      await svc.tasks.close();
      await alarms.close();
      await hosts.close();
      hosts.kekCache?.close();
      providers.close();
      await store.close();
    },
  };
}
