/**
 * Key providers: named clusters of KMIP servers, reached with KmipClient (pooled, with failover)
 * under center's client identity. center uses only Create, Activate, Get, GetAttributes, Locate,
 * Revoke and Destroy against a provider. The client identity is `center-client` (D/pki) until
 * `provider trust` gives the provider its own certificate (a CSR signed by the KMS's CA, or an
 * uploaded certificate and key), kept in D/pki/providers/NAME/ (key 0600), never in the database.
 */
import { createPublicKey } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { writeFileAtomic } from '../common/atomic-write.js';
import type { Logger } from '../common/logging.js';
import { certificateInfo, createCsr } from '../common/pki.js';
import { KmipClient } from '../kmip/client.js';
import { CenterError } from './errors.js';
import type { CenterStore, ProviderRecord } from './store/index.js';

export const CLIENT_COMMON_NAME = 'center-client';
const SERVER_RE = /^([A-Za-z0-9.-]{1,253}|\[[0-9a-fA-F:]+\]):(\d{1,5})$/;
/** KMIP connections per provider server: the task runner keeps up to 32 VM operations in flight. */
const KMIP_CONNECTIONS = 16;

export interface ServerStatus {
  readonly server: string;
  readonly connected: boolean;
  readonly error: string | null;
  readonly certificateExpires: string | null;
  readonly daysLeft: number | null;
}

export interface ProviderStatus {
  readonly name: string;
  readonly clientCertificateExpires: string;
  readonly clientDaysLeft: number;
  readonly servers: readonly ServerStatus[];
}

/** Parses `host:port,host:port`. */
export function parseServers(list: string): ProviderRecord['servers'] {
  const servers = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const m = SERVER_RE.exec(s);
      const port = Number(m?.[2]);
      if (!m || port < 1 || port > 65535)
        throw new CenterError('provider_invalid', `"${s}" is not host:port`);
      return { host: m[1]!.replace(/^\[(.*)\]$/, '$1'), port };
    });
  if (servers.length === 0 || servers.length > 16)
    throw new CenterError('provider_invalid', 'a provider has 1 to 16 servers');
  return servers;
}

function checkPem(pem: string, what: string): void {
  try {
    certificateInfo(pem);
  } catch (err) {
    throw new CenterError('provider_invalid', `the ${what} is not a PEM certificate`, { cause: err });
  }
}

function daysLeft(notAfter: string): number {
  return Math.floor((Date.parse(notAfter) - Date.now()) / 86_400_000);
}

export class ProviderManager {
  private readonly clients = new Map<string, KmipClient>();

  constructor(
    private readonly store: CenterStore,
    private readonly dataDir: string,
    private readonly logger: Logger,
  ) {}

  private dir(name: string): string {
    return join(this.dataDir, 'pki', 'providers', name);
  }

  private async credentials(p: ProviderRecord): Promise<{ ca: string; cert: string; key: string }> {
    const [base, file] =
      p.identity === 'provider' ? [this.dir(p.name), 'client'] : [join(this.dataDir, 'pki'), 'center-client'];
    const [cert, key] = await Promise.all([
      readFile(join(base, `${file}.pem`), 'utf8'),
      readFile(join(base, `${file}.key`), 'utf8'),
    ]);
    return { ca: p.ca, cert, key };
  }

  private forget(name: string): void {
    this.clients.get(name)?.close();
    this.clients.delete(name);
  }

  /** The pooled KMIP client of a provider (the default one without a name). */
  async client(name?: string): Promise<{ provider: ProviderRecord; client: KmipClient }> {
    const provider = name ? await this.store.getProvider(name) : await this.store.defaultProvider();
    let client = this.clients.get(provider.name);
    if (!client) {
      client = new KmipClient({
        servers: provider.servers,
        ...(await this.credentials(provider)),
        // Tasks run many VMs at once: each in-flight KMIP request holds a connection.
        poolSize: KMIP_CONNECTIONS,
        logger: this.logger.child({ provider: provider.name }),
      });
      this.clients.set(provider.name, client);
    }
    return { provider, client };
  }

  async add(name: string, servers: string, caPem: string): Promise<ProviderRecord> {
    checkPem(caPem, 'provider CA');
    return this.store.addProvider({
      name,
      ca: caPem,
      servers: parseServers(servers),
      identity: 'center-client',
    });
  }

  async update(name: string, change: { servers?: string; ca?: string }): Promise<ProviderRecord> {
    if (change.ca) checkPem(change.ca, 'provider CA');
    this.forget(name);
    return this.store.updateProvider(name, {
      ...(change.ca ? { ca: change.ca } : {}),
      ...(change.servers ? { servers: parseServers(change.servers) } : {}),
    });
  }

  async remove(name: string): Promise<void> {
    await this.store.removeProvider(name);
    this.forget(name);
    await rm(this.dir(name), { recursive: true, force: true });
  }

  /** Makes a key pair for this provider and returns a CSR (subject CN=center-client) for the KMS's CA to sign. */
  async createCsr(name: string): Promise<string> {
    await this.store.getProvider(name);
    const { csrPem, keyPem } = await createCsr(CLIENT_COMMON_NAME);
    await mkdir(this.dir(name), { recursive: true, mode: 0o700 });
    await writeFileAtomic(join(this.dir(name), 'client.key.pending'), keyPem, { mode: 0o600 });
    return csrPem;
  }

  /** Installs the provider's client certificate, with the given key or the key of the last CSR. */
  async setCertificate(name: string, certPem: string, keyPem?: string): Promise<ProviderRecord> {
    await this.store.getProvider(name);
    checkPem(certPem, 'client certificate');
    const dir = this.dir(name);
    const pending = join(dir, 'client.key.pending');
    const key =
      keyPem ??
      (await readFile(pending, 'utf8').catch((err: unknown) => {
        throw new CenterError(
          'provider_invalid',
          `no key for ${name}: upload one with the certificate, or make a CSR first`,
          { cause: err },
        );
      }));
    let matches = false;
    try {
      matches = createPublicKey(certPem)
        .export({ format: 'der', type: 'spki' })
        .equals(createPublicKey(key).export({ format: 'der', type: 'spki' }));
    } catch (err) {
      throw new CenterError('provider_invalid', 'the client key is not a PEM private key', { cause: err });
    }
    if (!matches)
      throw new CenterError('provider_invalid', 'the client certificate does not belong to the key');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(join(dir, 'client.key'), key, { mode: 0o600 });
    await writeFileAtomic(join(dir, 'client.pem'), certPem, { mode: 0o644 });
    if (!keyPem) await rm(pending, { force: true });
    this.forget(name);
    return this.store.updateProvider(name, { identity: 'provider' });
  }

  /** Per server: a mutual-TLS handshake (its certificate's expiry) and a KMIP Locate. */
  async status(name: string): Promise<ProviderStatus> {
    const p = await this.store.getProvider(name);
    const creds = await this.credentials(p);
    const client = certificateInfo(creds.cert);
    const servers = await Promise.all(
      p.servers.map(async (s): Promise<ServerStatus> => {
        const label = `${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}`;
        let expires: string | null = null;
        try {
          expires = await new Promise<string>((resolve, reject) => {
            const sock = connect({
              host: s.host,
              port: s.port,
              ...creds,
              ...(isIP(s.host) ? {} : { servername: s.host }),
              timeout: 5000,
            });
            sock.once('secureConnect', () => {
              const notAfter = new Date(sock.getPeerCertificate().valid_to).toISOString();
              sock.destroy();
              resolve(notAfter);
            });
            sock.once('timeout', () => sock.destroy(new Error('timed out')));
            sock.once('error', reject);
          });
          const one = new KmipClient({ servers: [s], ...creds, timeoutMs: 5000, poolSize: 1 });
          try {
            await one.locate({ maxItems: 1 });
          } finally {
            one.close();
          }
          return {
            server: label,
            connected: true,
            error: null,
            certificateExpires: expires,
            daysLeft: daysLeft(expires),
          };
        } catch (err) {
          return {
            server: label,
            connected: false,
            error: (err as Error).message,
            certificateExpires: expires,
            daysLeft: expires ? daysLeft(expires) : null,
          };
        }
      }),
    );
    return {
      name: p.name,
      clientCertificateExpires: new Date(client.notAfter).toISOString(),
      clientDaysLeft: daysLeft(client.notAfter),
      servers,
    };
  }

  close(): void {
    for (const name of [...this.clients.keys()]) this.forget(name);
  }
}

/** The public view of a provider (the CA as its facts, not its PEM). */
export function providerView(p: ProviderRecord): Record<string, unknown> {
  const ca = certificateInfo(p.ca);
  return {
    name: p.name,
    default: p.isDefault,
    servers: p.servers.map((s) => `${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}`),
    identity: p.identity,
    ca: { subject: ca.subject, fingerprint: ca.fingerprintSha256, notAfter: ca.notAfter },
    createdAt: p.createdAt,
  };
}
