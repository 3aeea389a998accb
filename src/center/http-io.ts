/** Reading JSON request bodies and writing JSON responses, with limits; nothing here throws past the caller. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readJsonObject } from '../common/json-body.js';
import { CenterError } from './errors.js';
import type { Body } from './validate.js';

export const MAX_BODY = 256 * 1024;

/** Reads a JSON object body; the raw bytes are zeroed (bodies may carry passwords). */
export function readJsonBody(req: IncomingMessage): Promise<Body> {
  return readJsonObject(req, MAX_BODY, (code, message, cause) => new CenterError(code, message, { cause })) as Promise<Body>;
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
