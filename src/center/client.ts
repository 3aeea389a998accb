/**
 * The HTTPS client of center's API (used by the CLI). center's certificate is trusted through its
 * CA (PEM) or pinned by its SHA-256 fingerprint (checked on the finished handshake, see pinned-tls.ts).
 */
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { CenterError, CenterRemoteError } from './errors.js';
import { pinnedConnect, PinMismatchError } from './pinned-tls.js';

export interface CenterTrust {
  /** PEM of the CA that signed center's TLS certificate. */
  readonly ca?: string | undefined;
  /** SHA-256 fingerprint of center's certificate (AA:BB:… or hex). */
  readonly fingerprint?: string | undefined;
}

export function normalizeFingerprint(f: string): string {
  const hex = f.replace(/[:\s]/g, '').toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex))
    throw new CenterError('invalid_request', 'a fingerprint is 32 bytes of hex (SHA-256)');
  return hex.match(/../g)!.join(':');
}

export class CenterClient {
  private readonly base: URL;

  constructor(
    url: string,
    private readonly trust: CenterTrust,
    private readonly token?: string,
  ) {
    try {
      this.base = new URL(url);
    } catch (err) {
      throw new CenterError('invalid_request', `not a URL: ${url}`, { cause: err });
    }
    if (this.base.protocol !== 'https:')
      throw new CenterError('invalid_request', "center's URL must be https://");
    if (!trust.ca && !trust.fingerprint)
      throw new CenterError(
        'invalid_request',
        'trust center through its CA (--ca) or its fingerprint (--fingerprint)',
      );
  }

  withToken(token: string): CenterClient {
    return new CenterClient(this.base.toString(), this.trust, token);
  }

  get url(): string {
    return this.base.origin;
  }

  async call<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const pinned = this.trust.fingerprint ? normalizeFingerprint(this.trust.fingerprint) : undefined;
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const url = new URL(path, this.base);
    let socket: TLSSocket | undefined;
    if (pinned) {
      const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
      try {
        socket = await pinnedConnect(host, Number(url.port || 443), pinned);
      } catch (err) {
        throw err instanceof PinMismatchError
          ? new CenterError('center_unreachable', err.message)
          : new CenterError(
              'center_unreachable',
              `cannot reach center at ${this.base.origin}: ${(err as Error).message}`,
              { cause: err },
            );
      }
    }
    return new Promise<T>((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          headers: {
            accept: 'application/json',
            ...(data ? { 'content-type': 'application/json', 'content-length': data.length } : {}),
            ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
          },
          ...(this.trust.ca ? { ca: this.trust.ca } : {}),
          ...(socket ? { createConnection: () => socket } : {}),
          timeout: 30_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            let parsed: unknown;
            try {
              parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            } catch {
              reject(new CenterError('center_unreachable', `center answered ${res.statusCode} without JSON`));
              return;
            }
            if (res.statusCode === 200) return resolve(parsed as T);
            const e = (parsed as { error?: { code?: unknown; message?: unknown } }).error;
            reject(
              new CenterRemoteError(
                typeof e?.code === 'string' ? e.code : 'internal',
                res.statusCode ?? 500,
                typeof e?.message === 'string' ? e.message : 'center failed',
              ),
            );
          });
          res.on('error', (err) =>
            reject(new CenterError('center_unreachable', 'the connection to center broke', { cause: err })),
          );
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (err) =>
        reject(
          err instanceof CenterError
            ? err
            : new CenterError(
                'center_unreachable',
                `cannot reach center at ${this.base.origin}: ${(err as Error).message}`,
                { cause: err },
              ),
        ),
      );
      req.end(data);
    });
  }
}
