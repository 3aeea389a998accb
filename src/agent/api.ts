/**
 * The agent API: HTTPS with mutual TLS, JSON, versioned under /api/v1 (OpenAPI at /api/docs).
 * Before enrollment only /health and /enroll answer; after it, only center's pinned client
 * certificate is accepted.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { SecretBytes } from '../crypto/index.js';
import { CERTIFICATE_ROUTES, type AgentCertificates } from './certificate.js';
import { toCryptvisorError } from '../common/errors.js';
import { readJsonObject } from '../common/json-body.js';
import type { Logger } from '../common/logging.js';
import { AgentError, decodeName } from './errors.js';
import { ESCROW_ROUTES } from './escrow.js';
import type { Enrollment } from './enrollment.js';
import type { DumpWriter } from './dumps.js';
import type { KeyCache, KeyRef } from './keys.js';
import { MOVE_ROUTES } from './move-routes.js';
import { OPENAPI } from './openapi.js';
import { parseRuntimeSpec } from './runtime/spec.js';
import type { VmManager } from './vm-manager.js';

const MAX_BODY = 1024 * 1024;

export interface ApiContext {
  readonly hostId: string;
  readonly keys: KeyCache;
  readonly vms: VmManager;
  readonly enrollment: Enrollment;
  readonly logger: Logger;
  readonly version: string;
  /** Writes sealed dumps (POST /api/v1/dump); absent: dumps are not supported by this server. */
  readonly dumps?: DumpWriter;
  /** Renews and activates the server certificate (certificate.ts); absent: not supported by this server. */
  readonly certificates?: AgentCertificates;
}

type Body = Record<string, unknown>;
type Handler = (ctx: ApiContext, params: string[], body: Body) => Promise<unknown>;

interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  readonly handler: Handler;
  /** Served before enrollment and without center's certificate. */
  readonly open?: boolean;
}

function str(body: Body, name: string): string {
  const v = body[name];
  if (typeof v !== 'string' || v.length === 0 || v.length > 1024) throw new AgentError('invalid_request', `"${name}" must be a non-empty string`);
  return v;
}

function optStr(body: Body, name: string): string | undefined {
  return body[name] === undefined || body[name] === null ? undefined : str(body, name);
}

function keyRef(body: Body): KeyRef {
  return { keyProviderId: str(body, 'keyProviderId'), keyId: str(body, 'keyId') };
}

function optKeyRef(body: Body, name: string): KeyRef | null {
  const v = body[name];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw new AgentError('invalid_request', `"${name}" must be an object with keyProviderId and keyId`);
  return keyRef(v as Body);
}

/** Decodes a base64 key from a request body into SecretBytes (the decoded buffer is zeroed). */
function secretFrom(body: Body, name: string, length: number): SecretBytes {
  const v = body[name];
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(v)) throw new AgentError('invalid_request', `"${name}" must be base64`);
  const buf = Buffer.from(v, 'base64');
  if (buf.length !== length) {
    buf.fill(0);
    throw new AgentError('invalid_request', `"${name}" must decode to ${length} bytes`);
  }
  return SecretBytes.from(buf, { zeroSource: true });
}

const ROUTES: readonly Route[] = [
  { method: 'GET', pattern: /^\/api\/v1\/health$/, open: true, handler: async (c) => ({ status: 'ok', hostId: c.hostId, state: hostState(c) }) },
  { method: 'GET', pattern: /^\/api\/docs$/, open: true, handler: async () => OPENAPI },
  {
    method: 'POST',
    pattern: /^\/api\/v1\/enroll$/,
    open: true,
    handler: async () => {
      throw new AgentError('invalid_request', 'enrollment is handled before routing');
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/v1\/info$/,
    handler: async (c) => ({ hostId: c.hostId, state: hostState(c), version: c.version, keys: c.keys.list().length, hostKeyId: c.keys.hostKey?.ref.keyId ?? null }),
  },
  { method: 'GET', pattern: /^\/api\/v1\/keys$/, handler: async (c) => ({ keys: c.keys.list() }) },
  { method: 'GET', pattern: /^\/api\/v1\/needed-keys$/, handler: async (c) => ({ keys: c.vms.neededKeys() }) },
  { method: 'GET', pattern: /^\/api\/v1\/missing-keys$/, handler: async (c) => ({ keys: c.vms.missingKeys() }) },
  {
    method: 'PUT',
    pattern: /^\/api\/v1\/keys\/([^/]+)\/([^/]+)$/,
    handler: async (c, [p, k], body) => {
      const ref = { keyProviderId: decodeName(p), keyId: decodeName(k) };
      c.keys.add(ref, secretFrom(body, 'key', 32));
      c.logger.info({ keyProviderId: ref.keyProviderId, keyId: ref.keyId }, 'KEK received');
      await c.vms.keysChanged();
      return { added: ref };
    },
  },
  {
    method: 'DELETE',
    pattern: /^\/api\/v1\/keys\/([^/]+)\/([^/]+)$/,
    handler: async (c, [p, k]) => {
      const ref = { keyProviderId: decodeName(p), keyId: decodeName(k) };
      if (!c.keys.remove(ref)) throw new AgentError('key_missing', `key ${ref.keyId} is not on this host`);
      return { removed: ref };
    },
  },
  {
    method: 'PUT',
    pattern: /^\/api\/v1\/host-key$/,
    handler: async (c, _p, body) => {
      const ref = keyRef(body);
      c.keys.setHostKey(ref, secretFrom(body, 'key', 32));
      return { state: hostState(c), hostKeyId: ref.keyId };
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/v1\/dump$/,
    handler: async (c) => {
      if (!c.dumps) throw new AgentError('not_supported', 'this agent does not write dumps');
      return c.dumps.write('on-demand');
    },
  },
  { method: 'GET', pattern: /^\/api\/v1\/vms$/, handler: async (c) => c.vms.list() },
  {
    method: 'POST',
    pattern: /^\/api\/v1\/vms$/,
    handler: async (c, _p, body) => {
      const disks = body['disks'];
      if (!Array.isArray(disks) || !disks.every((d) => typeof d === 'number')) throw new AgentError('invalid_request', '"disks" must be an array of sizes in bytes');
      const runtime = parseRuntimeSpec(body['runtime']);
      return c.vms.create({ name: str(body, 'name'), disks: disks as number[], encryption: optKeyRef(body, 'encryption'), ...(runtime ? { runtime } : {}) });
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/v1\/vms\/import$/,
    handler: async (c, _p, body) => {
      const raw = optStr(body, 'raw');
      const vmdk = optStr(body, 'vmdk');
      return c.vms.import({ name: str(body, 'name'), ...(raw ? { raw } : {}), ...(vmdk ? { vmdk } : {}), encryption: optKeyRef(body, 'encryption') });
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/v1\/vms\/register$/,
    handler: async (c, _p, body) => c.vms.register(str(body, 'path'), { force: body['force'] === true }),
  },
  {
    method: 'POST',
    pattern: /^\/api\/v1\/vms\/([^/]+)\/disks$/,
    handler: async (c, [n], body) => c.vms.addDisk(decodeName(n), body['sizeBytes'] as number),
  },
  {
    method: 'POST',
    pattern: /^\/api\/v1\/vms\/([^/]+)\/disks\/([^/]+)\/grow$/,
    handler: async (c, [n, id], body) => c.vms.growDisk(decodeName(n), decodeName(id), body['sizeBytes'] as number),
  },
  { method: 'GET', pattern: /^\/api\/v1\/vms\/([^/]+)$/, handler: async (c, [n]) => c.vms.show(decodeName(n)) },
  { method: 'DELETE', pattern: /^\/api\/v1\/vms\/([^/]+)$/, handler: async (c, [n]) => c.vms.delete(decodeName(n)) },
  {
    method: 'POST',
    pattern: /^\/api\/v1\/vms\/([^/]+)\/(power-on|power-off|suspend|snapshot|unregister|encrypt|decrypt|rekey|forget)$/,
    handler: async (c, [n, action], body) => {
      const name = decodeName(n);
      switch (action) {
        case 'power-on':
          return c.vms.powerOn(name);
        case 'power-off':
          return c.vms.powerOff(name);
        case 'suspend':
          return c.vms.suspend(name);
        case 'snapshot':
          return c.vms.snapshot(name);
        case 'unregister':
          return c.vms.unregister(name);
        case 'encrypt':
          return c.vms.encrypt(name, keyRef(body));
        case 'decrypt':
          return c.vms.decrypt(name);
        case 'rekey':
          return body['deep'] === true ? c.vms.rekeyDeep(name, keyRef(body)) : c.vms.rekeyShallow(name, keyRef(body));
        default:
          await c.vms.forget(name);
          return c.vms.show(name);
      }
    },
  },
  ...MOVE_ROUTES,
  ...ESCROW_ROUTES,
  ...CERTIFICATE_ROUTES,
];

export function hostState(c: ApiContext): 'incapable' | 'prepared' | 'safe' {
  if (!c.enrollment.enrolled) return 'incapable';
  return c.keys.hostKey ? 'safe' : 'prepared';
}

function readBody(req: IncomingMessage): Promise<Body> {
  return readJsonObject(req, MAX_BODY, (code, message, cause) => new AgentError(code, message, { cause })) as Promise<Body>;
}

function send(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Handles one HTTP request; never throws. */
export async function handleRequest(ctx: ApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://agent');
  const method = req.method ?? 'GET';
  try {
    const peer = (req.socket as TLSSocket).getPeerCertificate?.();
    const fingerprint = peer && 'fingerprint256' in peer ? peer.fingerprint256 : undefined;
    if (method === 'POST' && url.pathname === '/api/v1/enroll') {
      const body = await readBody(req);
      if (!fingerprint || !peer.raw) throw new AgentError('enrollment_invalid', 'enrollment needs center\'s client certificate on the connection');
      await ctx.enrollment.enroll(str(body, 'token'), peer.raw, fingerprint);
      ctx.logger.info({ center: fingerprint }, 'enrolled with center');
      send(res, 200, { hostId: ctx.hostId, state: hostState(ctx) });
      return;
    }
    const route = ROUTES.find((r) => r.method === method && r.pattern.test(url.pathname));
    if (!route) {
      const known = ROUTES.some((r) => r.pattern.test(url.pathname));
      throw new AgentError(known ? 'invalid_request' : 'route_not_found', known ? `${method} is not allowed on ${url.pathname}` : `no route ${url.pathname}`);
    }
    if (!route.open) {
      if (!ctx.enrollment.enrolled) throw new AgentError('not_enrolled', 'this host is not enrolled with a center yet');
      if (!fingerprint || !ctx.enrollment.isCenter(fingerprint)) throw new AgentError('not_authorized', 'only the enrolled center may call the agent API');
    }
    const params = (route.pattern.exec(url.pathname) ?? []).slice(1) as string[];
    const body = method === 'GET' || method === 'DELETE' ? {} : await readBody(req);
    send(res, 200, await route.handler(ctx, params, body));
  } catch (err) {
    const e = toCryptvisorError(err);
    if (e.code === 'internal') ctx.logger.error({ err: (err as Error).stack ?? String(err), path: url.pathname }, 'internal error');
    send(res, e.httpStatus, { error: e.toJSON() });
  }
}
