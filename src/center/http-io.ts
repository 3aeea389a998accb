/** Reading JSON request bodies and writing JSON responses, with limits; nothing here throws past the caller. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CenterError } from './errors.js';
import type { Body } from './validate.js';

export const MAX_BODY = 256 * 1024;

/** Reads a JSON object body; the raw bytes are zeroed (bodies may carry passwords). */
export async function readJsonBody(req: IncomingMessage): Promise<Body> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) {
      for (const c of chunks) c.fill(0);
      throw new CenterError('body_too_large', `request body over ${MAX_BODY} bytes`);
    }
    chunks.push(chunk);
  }
  const buf = Buffer.concat(chunks);
  for (const c of chunks) c.fill(0);
  if (buf.length === 0) return {};
  try {
    const v = JSON.parse(buf.toString('utf8')) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    return v as Body;
  } catch (err) {
    throw new CenterError('invalid_request', 'the request body must be a JSON object', { cause: err });
  } finally {
    buf.fill(0);
  }
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}
