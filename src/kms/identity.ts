import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';

/** The clientAuth extended key usage (RFC 5280 §4.2.1.12) and anyExtendedKeyUsage. */
export const EKU_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const EKU_ANY = '2.5.29.37.0';

/**
 * Who is calling: the subject of the client certificate, in one canonical spelling
 * (`CN=admin, O=cryptvisor`: the RDNs in certificate order, joined by ", "). Objects belong to
 * the identity that created them; the admin identity sees every object.
 */
export interface Identity {
  readonly subject: string;
  readonly admin: boolean;
}

export function subjectOf(cert: X509Certificate): string {
  return cert.subject
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .join(', ');
}

/** The subject of a PEM certificate file (the admin identity is `pki/admin.pem`'s). */
export function subjectOfPemFile(file: string): string {
  return subjectOf(new X509Certificate(readFileSync(file)));
}

export type IdentityResult = { ok: true; identity: Identity } | { ok: false; reason: string };

/**
 * The identity of an authorized TLS socket. The CA check has already happened in the
 * handshake (requestCert + rejectUnauthorized); this adds the EKU rule: with enforcement on, the
 * certificate must carry an extended key usage extension naming clientAuth (or any usage).
 */
export function identityOfSocket(socket: TLSSocket, opts: { adminSubject: string; requireClientAuthEku: boolean }): IdentityResult {
  if (!socket.authorized) {
    const err = String(socket.authorizationError ?? '');
    const purposeOnly = err === 'INVALID_PURPOSE' || err === 'UNSUITABLE_CERTIFICATE_PURPOSE';
    if (opts.requireClientAuthEku || !purposeOnly) return { ok: false, reason: `client certificate not authorized (${err})` };
  }
  const peer = socket.getPeerX509Certificate();
  if (!peer) return { ok: false, reason: 'no client certificate' };
  return identityOfCertificate(peer, opts);
}

export function identityOfCertificate(
  cert: X509Certificate,
  opts: { adminSubject: string; requireClientAuthEku: boolean },
): IdentityResult {
  if (opts.requireClientAuthEku) {
    const eku = cert.keyUsage as string[] | undefined;
    if (!eku || !(eku.includes(EKU_CLIENT_AUTH) || eku.includes(EKU_ANY))) {
      return { ok: false, reason: 'client certificate lacks the clientAuth extended key usage' };
    }
  }
  const subject = subjectOf(cert);
  return { ok: true, identity: { subject, admin: subject === opts.adminSubject } };
}

/** May `who` see an object owned by `owner`? */
export function mayAccess(who: Identity, owner: string): boolean {
  return who.admin || who.subject === owner;
}
