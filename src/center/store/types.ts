import type { Role } from '../privileges.js';

export interface UserRecord {
  readonly name: string;
  readonly role: Role;
  readonly passwordHash: string;
  readonly createdAt: string;
}

/** A bearer token: only its SHA-256 is stored. `session` tokens come from login, `api` tokens from `token create`. */
export interface TokenRecord {
  readonly id: string;
  readonly userName: string;
  readonly label: string;
  readonly kind: 'session' | 'api';
  readonly tokenHash: string;
  readonly createdAt: string;
  readonly expiresAt: string | null;
}

export interface AuditInput {
  readonly actor: string;
  readonly action: string;
  readonly target: string;
  readonly result: 'ok' | 'denied' | 'failed';
  readonly detail?: Readonly<Record<string, string | number | boolean | null>>;
}

/** One record of the append-only audit log; `hash` = SHA-256(prevHash + canonical record). */
export interface AuditRecord {
  readonly seq: number;
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly target: string;
  readonly result: string;
  readonly detail: string;
  readonly prevHash: string;
  readonly hash: string;
}

/**
 * A key provider: a named cluster of KMIP servers. `ca` is the PEM of the servers' CA; `identity`
 * says which client certificate center presents: `center-client` (D/pki) or `provider` (its own,
 * in D/pki/providers/NAME/, from a signed CSR or an upload). No key material is stored here.
 */
export interface ProviderRecord {
  readonly name: string;
  readonly isDefault: boolean;
  readonly ca: string;
  readonly servers: readonly { readonly host: string; readonly port: number }[];
  readonly identity: 'center-client' | 'provider';
  readonly createdAt: string;
}

/** A host (an enrolled agent): its API URL, its pinned certificate, and its host key's reference. */
export interface HostRecord {
  readonly name: string;
  readonly url: string;
  readonly fingerprint: string;
  readonly hostId: string;
  readonly hostKeyProviderId: string | null;
  readonly hostKeyId: string | null;
  /** A renewed agent certificate being switched to (accepted with `fingerprint` until promoted). */
  readonly pendingFingerprint: string | null;
  readonly createdAt: string;
}
