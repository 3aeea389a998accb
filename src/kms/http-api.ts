import type { IncomingMessage, ServerResponse } from 'node:http';
import { KmipError } from '../kmip/index.js';
import type { Logger } from '../common/logging.js';
import type { Dispatcher } from './dispatch.js';
import type { Identity } from './identity.js';
import type { KmsMetrics } from './metrics.js';
import type { KmsStore } from './store/types.js';
import { ENCODINGS, type MessageEncoding } from './message-encodings.js';

/**
 * The HTTPS side of the KMS (KMIP Additional Message Encodings, HTTPS profile): `POST /kmip`
 * with a TTLV, JSON or XML body by Content-Type, answered in the same encoding; `GET /health`;
 * `GET /metrics` (Prometheus text format).
 */
export interface HttpApiDeps {
  readonly dispatcher: Dispatcher;
  readonly metrics: KmsMetrics;
  readonly store: KmsStore;
  readonly logger: Logger;
  readonly maxMessageBytes: number;
  readonly maxDepth: number;
}

function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > limit) {
      resolve('too-large');
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        resolve('too-large');
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function createHttpApi(deps: HttpApiDeps): (req: IncomingMessage, res: ServerResponse, identity: Identity) => void {
  return (req, res, identity) => {
    handle(deps, req, res, identity).catch((err: unknown) => {
      deps.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'HTTPS request failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error\n');
    });
  };
}

async function handle(deps: HttpApiDeps, req: IncomingMessage, res: ServerResponse, identity: Identity): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'GET' && path === '/health') {
    let storeOk = true;
    try {
      await deps.store.locate({ limit: 1 });
    } catch {
      storeOk = false;
    }
    const body = JSON.stringify({ status: storeOk ? 'ok' : 'degraded', store: deps.store.kind, storeOk });
    res.writeHead(storeOk ? 200 : 503, { 'content-type': 'application/json' }).end(body + '\n');
    return;
  }
  if (req.method === 'GET' && path === '/metrics') {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(deps.metrics.render());
    return;
  }
  if (path !== '/kmip') {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    return;
  }
  if (req.method !== 'POST') {
    res.writeHead(405, { allow: 'POST', 'content-type': 'text/plain' }).end('use POST\n');
    return;
  }
  const enc: MessageEncoding | undefined = ENCODINGS.get(mediaType(req));
  if (!enc) {
    res.writeHead(415, { 'content-type': 'text/plain' }).end(`use one of: ${[...ENCODINGS.keys()].join(', ')}\n`);
    return;
  }
  const body = await readBody(req, deps.maxMessageBytes);
  if (body === 'too-large') {
    res.writeHead(413, { 'content-type': 'text/plain', connection: 'close' }).end('message too large\n');
    return;
  }
  let out: Uint8Array;
  if (enc.binary) out = await deps.dispatcher.handleBytes(body, identity);
  else {
    let item;
    try {
      item = enc.decode(body, { maxMessageBytes: deps.maxMessageBytes, maxDepth: deps.maxDepth });
    } catch (err) {
      const e = err instanceof KmipError ? err : new KmipError('invalid_message', 'the message could not be read');
      out = enc.encode(deps.dispatcher.messageError({ major: 1, minor: 0 }, e));
      res.writeHead(200, { 'content-type': enc.contentType }).end(out);
      return;
    }
    out = enc.encode(await deps.dispatcher.handleItem(item, identity));
  }
  res.writeHead(200, { 'content-type': enc.contentType, 'content-length': out.length }).end(out);
}

