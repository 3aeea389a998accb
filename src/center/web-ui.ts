/**
 * The web UI's files (web/ at the package root), served by center at `/` and `/ui/*`. The UI is a
 * client of the REST API and nothing more: it gets no privilege of its own. Every file goes out
 * with a strict Content-Security-Policy (scripts, styles and requests only from center itself).
 */
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { CenterError } from './errors.js';

/** The UI's files: a closed list, so no request path ever reaches the filesystem. */
const FILES: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/ui/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/ui/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/ui/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** dist/src/center/web-ui.js and src/center/web-ui.ts both sit three levels below the package root's web/. */
const WEB_DIR = fileURLToPath(new URL('../../../web/', import.meta.url));
const SRC_WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));

export function isUiPath(path: string): boolean {
  return Object.hasOwn(FILES, path);
}

async function load(file: string): Promise<Buffer> {
  try {
    return await readFile(WEB_DIR + file);
  } catch {
    return readFile(SRC_WEB_DIR + file).catch((err: unknown) => {
      throw new CenterError('route_not_found', `the web UI's ${file} is not installed`, { cause: err });
    });
  }
}

/** Sends one of the UI's files (a path for which isUiPath is true). */
export async function serveUi(res: ServerResponse, path: string, method: string): Promise<void> {
  const entry = FILES[path];
  if (!entry) throw new CenterError('route_not_found', `no route ${path}`);
  if (method !== 'GET' && method !== 'HEAD')
    throw new CenterError('method_not_allowed', `${method} is not allowed on ${path}`);
  const body = await load(entry.file);
  res.writeHead(200, {
    'content-type': entry.type,
    'content-length': body.length,
    'content-security-policy': CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-cache',
  });
  res.end(method === 'HEAD' ? undefined : body);
}
