/**
 * TLS connections pinned to certificate SHA-256 fingerprints. Node calls checkServerIdentity
 * only after the chain verified, so a pin to a certificate of an unknown CA is checked here, on the
 * finished handshake, before the socket is handed to HTTP: no request byte leaves unverified.
 * Several fingerprints may be accepted (an agent certificate renewal in progress: the current one
 * and the renewed one); the socket's `getPeerCertificate()` says which one was served.
 */
import { isIP } from 'node:net';
import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';

export class PinMismatchError extends Error {}

export function pinnedConnect(
  host: string,
  port: number,
  fingerprint: string | readonly string[],
  extra: Pick<ConnectionOptions, 'cert' | 'key'> = {},
  timeoutMs = 15_000,
): Promise<TLSSocket> {
  const accepted: readonly string[] = typeof fingerprint === 'string' ? [fingerprint] : fingerprint;
  return new Promise((resolve, reject) => {
    const socket = connect({
      host,
      port,
      ...(isIP(host) ? {} : { servername: host }),
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
      ...extra,
    });
    const timer = setTimeout(() => socket.destroy(new Error('TLS handshake timed out')), timeoutMs);
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const got = socket.getPeerCertificate().fingerprint256;
      if (got === undefined || !accepted.includes(got)) {
        socket.destroy();
        reject(
          new PinMismatchError(
            `the server's certificate fingerprint ${got ?? '(none)'} does not match the pinned one${accepted.length > 1 ? 's' : ''}`,
          ),
        );
        return;
      }
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}
