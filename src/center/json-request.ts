/** One JSON request over HTTPS (to center or to an agent): `{"error":{code,message}}` answers reject as CenterRemoteError. */
import { request, type Agent } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { CenterRemoteError } from './errors.js';

export interface JsonRequestOptions {
  /** PEM of the CA to verify the server against (when no pinned socket is given). */
  readonly ca?: string | undefined;
  /** An already verified (pinned) TLS connection to send the request on. */
  readonly socket?: TLSSocket | undefined;
  /** An HTTPS agent that makes (pinned) connections and keeps them for reuse. */
  readonly agent?: Agent | undefined;
  readonly token?: string | undefined;
  readonly timeoutMs?: number;
  /** The error for a peer that cannot be reached or answers garbage. */
  unreachable(message: string, cause?: unknown): Error;
}

const RETRYABLE = new WeakSet<Error>();

/** True for the failure of a request sent on a reused connection that the peer had closed: send it again. */
export function isRetryable(err: unknown): boolean {
  return err instanceof Error && RETRYABLE.has(err);
}

export function jsonRequest<T>(
  url: URL,
  method: string,
  body: unknown,
  opts: JsonRequestOptions,
): Promise<T> {
  const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const socket = opts.socket;
  return new Promise<T>((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        headers: {
          accept: 'application/json',
          ...(data ? { 'content-type': 'application/json', 'content-length': data.length } : {}),
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
        },
        ...(opts.ca ? { ca: opts.ca } : {}),
        ...(socket ? { createConnection: () => socket } : {}),
        ...(opts.agent ? { agent: opts.agent } : {}),
        timeout: opts.timeoutMs ?? 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            reject(opts.unreachable(`${url.origin} answered ${res.statusCode} without JSON`));
            return;
          } finally {
            for (const c of chunks) c.fill(0);
          }
          if (res.statusCode === 200 || res.statusCode === 202) return resolve(parsed as T);
          const e = (parsed as { error?: { code?: unknown; message?: unknown } }).error;
          reject(
            new CenterRemoteError(
              typeof e?.code === 'string' ? e.code : 'internal',
              res.statusCode ?? 500,
              typeof e?.message === 'string' ? e.message : `${url.origin} failed`,
            ),
          );
        });
        res.on('error', (err) => reject(opts.unreachable(`the connection to ${url.origin} broke`, err)));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => {
      const e = opts.unreachable(`cannot reach ${url.origin}: ${err.message}`, err);
      // A kept-alive connection the peer closed just as it was reused: nothing was processed.
      const code = (err as NodeJS.ErrnoException).code;
      if (req.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE')) RETRYABLE.add(e);
      reject(e);
    });
    req.end(data);
  });
}
