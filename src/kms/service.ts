import { KmipError, encodeTtlv } from '../kmip/index.js';
import type { Logger } from '../common/logging.js';
import { Dispatcher, FALLBACK_VERSION, SUPPORTED_VERSIONS, type AuditSink } from './dispatch.js';
import { CoalescingAudit } from './flush-coalescer.js';
import { createHttpApi } from './http-api.js';
import type { Identity } from './identity.js';
import { KmsMetrics } from './metrics.js';
import type { ServerInfo } from './operations/index.js';
import type { KmsStore } from './store/types.js';
import type { ConnectionHandler } from './transport/tls-server.js';

/**
 * The KMS service without any listener: the dispatcher, the HTTPS API and the connection
 * handler the TLS listener calls. Tests drive it in-process through `handleBytes`/`handleItem`.
 */
export interface KmsService {
  readonly dispatcher: Dispatcher;
  readonly metrics: KmsMetrics;
  readonly handler: ConnectionHandler;
  /** One binary request in, one binary response out (what a TLS connection does per message). */
  handleBytes(message: Uint8Array, identity: Identity): Promise<Buffer>;
}

export interface KmsServiceDeps {
  readonly store: KmsStore;
  readonly audit: AuditSink;
  readonly logger: Logger;
  readonly maxMessageBytes: number;
  readonly maxDepth: number;
  readonly server?: ServerInfo;
}

export const DEFAULT_SERVER_INFO: ServerInfo = Object.freeze({
  vendor: 'cryptvisor',
  product: 'KMS',
  version: '0.1.0',
  versions: SUPPORTED_VERSIONS,
});

export function createKmsService(deps: KmsServiceDeps): KmsService {
  const metrics = new KmsMetrics();
  const dispatcher = new Dispatcher({
    store: deps.store,
    audit: new CoalescingAudit(deps.audit),
    metrics,
    logger: deps.logger,
    server: deps.server ?? DEFAULT_SERVER_INFO,
    limits: { maxMessageBytes: deps.maxMessageBytes, maxDepth: deps.maxDepth },
  });
  const http = createHttpApi({ dispatcher, metrics, store: deps.store, logger: deps.logger, maxMessageBytes: deps.maxMessageBytes, maxDepth: deps.maxDepth });
  const handler: ConnectionHandler = {
    ttlv: (message, identity) => dispatcher.handleBytes(message, identity),
    unframeable: (detail) => encodeTtlv(dispatcher.messageError(FALLBACK_VERSION, new KmipError('invalid_message', detail))),
    http,
  };
  return { dispatcher, metrics, handler, handleBytes: (m, i) => dispatcher.handleBytes(m, i) };
}
