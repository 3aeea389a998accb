/**
 * Reading a JSON object request body with a size limit, for the HTTPS APIs of center and the agent.
 * Bodies may carry passwords and keys: every buffer that held the raw bytes is zeroed, whatever
 * happens. Errors are made by the caller's factory, so each service answers with its own codes.
 */
import type { IncomingMessage } from 'node:http';

export type JsonBodyFailure = 'body_too_large' | 'invalid_request';

export async function readJsonObject(
  req: IncomingMessage,
  maxBytes: number,
  fail: (code: JsonBodyFailure, message: string, cause?: unknown) => Error,
): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      for (const c of chunks) c.fill(0);
      chunk.fill(0);
      throw fail('body_too_large', `request body over ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  const buf = Buffer.concat(chunks);
  for (const c of chunks) c.fill(0);
  if (buf.length === 0) return {};
  try {
    const v = JSON.parse(buf.toString('utf8')) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch (err) {
    throw fail('invalid_request', 'the request body must be a JSON object', err);
  } finally {
    buf.fill(0);
  }
}
