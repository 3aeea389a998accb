/** The request dispatcher: route → authenticate → validate → authorize → handler; errors as JSON. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { toCryptvisorError } from '../common/errors.js';
import type { Logger } from '../common/logging.js';
import { CenterError } from './errors.js';
import { readJsonBody, sendJson } from './http-io.js';
import { buildOpenApi } from './openapi.js';
import { ROUTES, routeBody, type CenterServices, type Route } from './routes.js';
import { isUiPath, serveUi } from './web-ui.js';

interface CompiledRoute {
  readonly route: Route;
  readonly regex: RegExp;
  readonly names: readonly string[];
}

function compile(route: Route): CompiledRoute {
  const names: string[] = [];
  const src = route.path.replace(/[.]/g, '\\.').replace(/\{([a-zA-Z]+)\}/g, (_m, n: string) => {
    names.push(n);
    return '([^/]+)';
  });
  return { route, regex: new RegExp(`^${src}$`), names };
}

const COMPILED = ROUTES.map(compile);
const OPENAPI = buildOpenApi(ROUTES);

function decode(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    throw new CenterError('invalid_request', 'malformed path');
  }
}

export async function handleRequest(
  svc: CenterServices,
  logger: Logger,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  let path = '/';
  try {
    const url = new URL(req.url ?? '/', 'https://center');
    path = url.pathname;
    const method = req.method ?? 'GET';
    if (isUiPath(path)) {
      await serveUi(res, path, method);
      return;
    }
    if (method === 'GET' && path === '/api/docs') {
      sendJson(res, 200, OPENAPI);
      return;
    }
    const matches = COMPILED.filter((r) => r.regex.test(path));
    if (matches.length === 0) throw new CenterError('route_not_found', `no route ${path}`);
    const hit = matches.find((r) => r.route.method === method);
    if (!hit) throw new CenterError('method_not_allowed', `${method} is not allowed on ${path}`);
    const m = hit.regex.exec(path) ?? [];
    const params: Record<string, string> = {};
    hit.names.forEach((n, i) => (params[n] = decode(m[i + 1] ?? '')));
    const principal = hit.route.open
      ? { user: '-', role: 'ReadOnly' as const, tokenId: '' }
      : await svc.auth.authenticate(req.headers.authorization);
    const body = routeBody(hit.route, method === 'GET' || method === 'DELETE' ? {} : await readJsonBody(req));
    if (hit.route.privilege)
      await svc.auth.authorize(
        principal,
        hit.route.privilege,
        `${method} ${hit.route.path}`,
        Object.values(params).join('/') || '-',
      );
    sendJson(res, hit.route.status ?? 200, await hit.route.handler({ svc, principal, params, body, query: url.searchParams }));
  } catch (err) {
    const e = toCryptvisorError(err);
    if (e.code === 'internal' || e.code === 'store_invalid')
      logger.error({ err: (err as Error).stack ?? String(err), path }, 'internal error');
    sendJson(res, e.httpStatus, { error: e.toJSON() });
  }
}
