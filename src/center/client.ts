/**
 * The HTTPS client of center's API (used by the CLI). center's certificate is trusted through its
 * CA (PEM) or pinned by its SHA-256 fingerprint (checked on the finished handshake, see pinned-tls.ts).
 */
import type { TLSSocket } from 'node:tls';
import { CenterError } from './errors.js';
import { jsonRequest } from './json-request.js';
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
    return jsonRequest<T>(url, method, body, {
      ca: this.trust.ca,
      socket,
      token: this.token,
      unreachable: (message, cause) => new CenterError('center_unreachable', message, { cause }),
    });
  }
}
