/**
 * Disaster recovery of one disk with KMS access (issue 6, docs/recovery.md): read the disk's
 * `cryptvisor` LUKS2 token (key provider, key ID, wrapped DEK), fetch the KEK from the KMS over
 * KMIP (mutual TLS, with a client identity allowed to Get it), and unwrap the DEK. The caller then
 * serves the disk or writes a volume key file, and disposes the DEK.
 *
 * The wrapped DEK is bound to its place (VM uuid and disk ID, DESIGN.md §3). For an extent in a
 * datastore VM folder the place is read from the folder's plaintext configuration (`NAME/NAME.cvx`
 * and its disk descriptors); a disk made by `disk format` is bound to its own LUKS2 UUID.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CryptvisorError, type ErrorKind } from '../common/errors.js';
import type { SecretBytes } from '../crypto/index.js';
import { KmipClient, KmipClientError, KmipError, State, asEnum, type KmipEndpoint } from '../kmip/index.js';
import { getToken, type CryptvisorToken, type Luks2Header } from '../luks/index.js';
import { readImageHeader, unwrapDiskKey } from './image.js';
import { KEK_BYTES } from './key-file.js';

export type RecoveryErrorCode =
  | 'not_cryptvisor_disk'
  | 'dek_not_wrapped'
  | 'kms_argument_invalid'
  | 'kms_unavailable'
  | 'kms_denied'
  | 'key_not_found'
  | 'key_revoked'
  | 'key_destroyed'
  | 'key_invalid'
  | 'unwrap_failed';

const KINDS: Readonly<Record<RecoveryErrorCode, ErrorKind>> = {
  not_cryptvisor_disk: 'invalid',
  dek_not_wrapped: 'not_found',
  kms_argument_invalid: 'usage',
  kms_unavailable: 'unavailable',
  kms_denied: 'denied',
  key_not_found: 'not_found',
  key_revoked: 'locked',
  key_destroyed: 'locked',
  key_invalid: 'invalid',
  unwrap_failed: 'locked',
};

/** Errors of recovery with KMS access; the kinds give the exit codes of DESIGN.md §10. */
export class RecoveryError extends CryptvisorError {
  constructor(code: RecoveryErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, KINDS[code], message, options);
  }
}

export const RECOVERY_ERROR_CODES = Object.keys(KINDS) as RecoveryErrorCode[];

/** How to reach the key provider: its servers (failover in order) and a client identity, all PEM. */
export interface KmsAccess {
  readonly servers: readonly KmipEndpoint[];
  readonly ca: string | Buffer;
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  /** Name to check the server certificate against, when it is not the host dialled. */
  readonly servername?: string;
  readonly timeoutMs?: number;
}

/** Where a wrapped DEK belongs: the VM uuid and the disk ID bound into its wrapping. */
export interface DiskPlace {
  readonly vmUuid?: string;
  readonly diskId?: string;
}

/** Parses `HOST:PORT[,HOST:PORT...]` (an IPv6 host in brackets). */
export function parseKmsServers(list: string): KmipEndpoint[] {
  const out: KmipEndpoint[] = [];
  for (const part of list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)) {
    const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(part);
    const port = m ? Number(m[3]) : NaN;
    if (!m || !(port >= 1 && port <= 65535)) {
      throw new RecoveryError('kms_argument_invalid', `"${part}" is not HOST:PORT`);
    }
    out.push({ host: (m[1] ?? m[2]) as string, port });
  }
  if (out.length === 0) throw new RecoveryError('kms_argument_invalid', 'no KMS server given (HOST:PORT)');
  return out;
}

/** The token of a disk that recovery can work with: a cryptvisor token naming a KEK and a wrapped DEK. */
export function recoverableToken(
  header: Luks2Header,
  path: string,
): CryptvisorToken & { keyProviderId: string; keyId: string; wrappedKey: string } {
  const t = getToken(header);
  if (!t)
    throw new RecoveryError(
      'not_cryptvisor_disk',
      `${path} is a LUKS2 volume without a cryptvisor token: not a cryptvisor disk`,
    );
  if (!t.keyProviderId || !t.keyId || !t.wrappedKey) {
    throw new RecoveryError(
      'dek_not_wrapped',
      `${path} has no wrapped DEK (its token names no KEK): use its volume key file or an escrow passphrase`,
    );
  }
  return t as CryptvisorToken & { keyProviderId: string; keyId: string; wrappedKey: string };
}

async function readJsonObject(path: string): Promise<Record<string, unknown> | undefined> {
  try {
    const v: unknown = JSON.parse(await readFile(path, 'utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The places an extent may be bound to, most likely first: from its VM folder's configuration
 * (`DIR/DIR.cvx`: the VM uuid; the disk whose descriptor names this extent, or `nvram`), and last
 * the disk on its own (bound to its LUKS2 UUID, as `disk format` and `disk encrypt` bind it).
 */
export async function candidatePlaces(extent: string): Promise<DiskPlace[]> {
  const dir = dirname(extent);
  const file = basename(extent);
  const places: DiskPlace[] = [];
  const config = await readJsonObject(join(dir, `${basename(dir)}.cvx`));
  const vmUuid = typeof config?.['uuid'] === 'string' ? config['uuid'] : undefined;
  if (vmUuid) {
    const disks = Array.isArray(config?.['disks']) ? (config['disks'] as unknown[]) : [];
    for (const d of disks) {
      if (typeof d !== 'object' || d === null) continue;
      const { id, descriptor } = d as Record<string, unknown>;
      if (typeof id !== 'string' || typeof descriptor !== 'string' || basename(descriptor) !== descriptor)
        continue;
      const desc = await readJsonObject(join(dir, descriptor));
      if (desc?.['extent'] === file) places.push({ vmUuid, diskId: id });
    }
    if (file === 'nvram.img') places.push({ vmUuid, diskId: 'nvram' });
    const m = /^(disk-\d+)-flat\.img$/.exec(file);
    if (m && !places.some((p) => p.diskId === m[1])) places.push({ vmUuid, diskId: m[1] as string });
  }
  places.push({});
  return places;
}

function kmipFailure(err: unknown, keyId: string): RecoveryError {
  if (err instanceof RecoveryError) return err;
  if (err instanceof KmipClientError) {
    if (err.code === 'tls_failed') {
      return new RecoveryError(
        'kms_denied',
        'the TLS handshake with the KMS failed: check the CA, the client certificate and its key',
        { cause: err },
      );
    }
    if (err.code === 'connection_closed') {
      // Under TLS 1.3 the server checks the client certificate after the client's handshake is
      // done; a refused certificate shows as the connection closed on the first request.
      return new RecoveryError(
        'kms_denied',
        'the KMS closed the connection after the TLS handshake: it most likely refused this client certificate (not from a CA it trusts)',
        { cause: err },
      );
    }
    if (err.code === 'argument_invalid')
      return new RecoveryError('kms_argument_invalid', err.message, { cause: err });
    return new RecoveryError('kms_unavailable', `the KMS cannot be reached (${err.code}): ${err.message}`, {
      cause: err,
    });
  }
  if (err instanceof KmipError) {
    switch (err.code) {
      case 'item_not_found':
      case 'object_not_found':
        return new RecoveryError(
          'key_not_found',
          `the KMS has no key ${keyId} visible to this client identity (use an identity allowed to Get it, such as the KMS administrator's)`,
          { cause: err },
        );
      case 'object_destroyed':
        return new RecoveryError(
          'key_destroyed',
          `key ${keyId} has been destroyed at the KMS: the disk cannot be recovered with it`,
          { cause: err },
        );
      case 'permission_denied':
      case 'not_authorised':
      case 'authentication_not_successful':
      case 'sensitive':
      case 'not_extractable':
        return new RecoveryError(
          'kms_denied',
          `the KMS refused to give key ${keyId} to this client identity (${err.code})`,
          { cause: err },
        );
      default:
        return new RecoveryError('kms_unavailable', `the KMS failed to give key ${keyId}: ${err.message}`, {
          cause: err,
        });
    }
  }
  return new RecoveryError('kms_unavailable', `the KMS failed to give key ${keyId}`, { cause: err });
}

/** The key's KMIP State, or undefined when the server does not say. */
async function keyState(client: KmipClient, keyId: string): Promise<string | undefined> {
  const attrs = await client.getAttributes(keyId, ['State']);
  const s = attrs.find((a) => a.name === 'State');
  if (!s) return undefined;
  const n = asEnum(s.value);
  return Object.entries(State).find(([, v]) => v === n)?.[0];
}

/**
 * Fetches a KEK by its ID: GetAttributes (State) first, so a destroyed or revoked key gets its own
 * error whatever the server's Get would say, then Get. The KEK must be a 256-bit key.
 */
export async function fetchKek(client: KmipClient, keyId: string): Promise<SecretBytes> {
  let kek: SecretBytes | undefined;
  try {
    const state = await keyState(client, keyId);
    if (state === 'Destroyed' || state === 'DestroyedCompromised') {
      throw new RecoveryError(
        'key_destroyed',
        `key ${keyId} has been destroyed at the KMS (crypto-shredded): the disk cannot be recovered with it`,
      );
    }
    if (state === 'Deactivated' || state === 'Compromised') {
      throw new RecoveryError(
        'key_revoked',
        `key ${keyId} has been revoked at the KMS (state ${state}): recovery refuses a revoked key`,
      );
    }
    const obj = await client.get(keyId);
    kek = obj.material;
    if (obj.objectType !== 'SymmetricKey' || kek.length !== KEK_BYTES) {
      throw new RecoveryError(
        'key_invalid',
        `key ${keyId} is not a 256-bit symmetric key (${obj.objectType}, ${kek.length} bytes)`,
      );
    }
    const out = kek;
    kek = undefined;
    return out;
  } catch (err) {
    throw kmipFailure(err, keyId);
  } finally {
    kek?.dispose();
  }
}

export interface RecoveredDisk {
  readonly path: string;
  readonly header: Luks2Header;
  readonly keyProviderId: string;
  readonly keyId: string;
  /** The place the DEK was bound to (empty: the disk's own UUID). */
  readonly place: DiskPlace;
  /** The disk's volume key; the caller disposes it. */
  readonly dek: SecretBytes;
}

/** Unwraps a disk's DEK with its KEK, trying each candidate place; uniform error when none fits. */
export function unwrapAtPlaces(
  header: Luks2Header,
  kek: SecretBytes,
  places: readonly DiskPlace[],
  path: string,
): { dek: SecretBytes; place: DiskPlace } {
  for (const place of places) {
    try {
      return { dek: unwrapDiskKey(header, kek, place), place };
    } catch {
      // The unwrap error is uniform; the next candidate place is tried.
    }
  }
  throw new RecoveryError(
    'unwrap_failed',
    `the KEK named by ${path}'s token does not unwrap its DEK (moved from its VM folder? give --vm-uuid and --disk-id)`,
  );
}

/**
 * Reads a disk's token, fetches its KEK from the KMS and unwraps the DEK. `place` overrides the
 * places found beside the extent. The KEK is zeroed before this returns.
 */
export async function recoverDiskKey(
  path: string,
  opts: { kms: KmsAccess | KmipClient; place?: DiskPlace },
): Promise<RecoveredDisk> {
  const header = await readImageHeader(path);
  const token = recoverableToken(header, path);
  const places = opts.place ? [opts.place] : await candidatePlaces(path);
  const own = !(opts.kms instanceof KmipClient);
  let client: KmipClient;
  try {
    client =
      opts.kms instanceof KmipClient
        ? opts.kms
        : new KmipClient({ ...opts.kms, timeoutMs: opts.kms.timeoutMs ?? 10_000, poolSize: 1 });
  } catch (err) {
    if (err instanceof KmipClientError) throw kmipFailure(err, token.keyId);
    throw new RecoveryError(
      'kms_argument_invalid',
      'the KMS CA, client certificate or key is not valid PEM',
      { cause: err },
    );
  }
  try {
    const kek = await fetchKek(client, token.keyId);
    try {
      const { dek, place } = unwrapAtPlaces(header, kek, places, path);
      return { path, header, keyProviderId: token.keyProviderId, keyId: token.keyId, place, dek };
    } finally {
      kek.dispose();
    }
  } finally {
    if (own) client.close();
  }
}
