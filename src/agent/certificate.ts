/**
 * Renewal of the agent's TLS server certificate, in two phases so that center never loses the
 * ability to reach the agent (docs/agent.md, "Certificate renewal"):
 *
 * 1. renew: a new key pair and certificate from the agent's own CA, with the subject and SANs of
 *    `pki/server.pem`, written as `pki/server.next.pem|key` (nothing served changes yet);
 * 2. activate: `server.next.key` → `server.key`, then `server.next.pem` → `server.pem` (each a
 *    rename, the directory fsync'd), and the running server switches its secure context so new
 *    connections get the new certificate while open ones finish.
 *
 * A crash between the two renames leaves `server.next.pem` without `server.next.key`:
 * `finishCutActivation` (called before the server starts) completes it. A crash before step 2
 * leaves both next files: the old pair is served, and a later renew replaces the next pair.
 */
import { rename, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ApiContext } from './api.js';
import { fsyncDir } from '../common/atomic-write.js';
import { certificateInfo, renewCertificate } from '../common/pki.js';
import { AgentError } from './errors.js';

/** What renew and activate answer: the certificate's SHA-256 fingerprint (AA:BB:…) and its expiry. */
export interface CertificateSummary {
  readonly fingerprint: string;
  readonly notAfter: string;
}

/** The served pair, for `Server.setSecureContext`; the caller zeroes `key` after use. */
export interface ServedPair {
  readonly cert: Buffer;
  readonly key: Buffer;
}

const SERVED = 'server';
const NEXT = 'server.next';
const MAX_DAYS = 3650;

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

async function summary(file: string): Promise<CertificateSummary> {
  const info = certificateInfo(await readFile(file, 'utf8'));
  return { fingerprint: info.fingerprintSha256, notAfter: info.notAfter };
}

/** AA:BB:… upper case, from any of the usual spellings; anything else is the caller's error. */
function normalize(fingerprint: string): string {
  const hex = fingerprint.replace(/[:\s]/g, '').toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) throw new AgentError('invalid_request', '"fingerprint" is a SHA-256 fingerprint (64 hex digits)');
  return hex.match(/../g)!.join(':');
}

/**
 * Completes an activation cut short by a crash after the key's rename (server.next.pem present,
 * server.next.key gone): renames the pem too. Returns true when it did.
 */
export async function finishCutActivation(pkiDir: string): Promise<boolean> {
  const pem = join(pkiDir, `${NEXT}.pem`);
  if (!(await exists(pem)) || (await exists(join(pkiDir, `${NEXT}.key`)))) return false;
  await rename(pem, join(pkiDir, `${SERVED}.pem`));
  await fsyncDir(pkiDir);
  return true;
}

/** Reads the served pair (after finishCutActivation). */
export async function readServedPair(pkiDir: string): Promise<ServedPair> {
  const [cert, key] = await Promise.all([readFile(join(pkiDir, `${SERVED}.pem`)), readFile(join(pkiDir, `${SERVED}.key`))]);
  return { cert, key };
}

/** The agent's certificate files and the hook that switches the running server to a new pair. */
export class AgentCertificates {
  /** renew and activate run one at a time. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly pkiDir: string,
    private readonly install: (pair: ServedPair) => void,
  ) {}

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The certificate served now. */
  current(): Promise<CertificateSummary> {
    return summary(join(this.pkiDir, `${SERVED}.pem`));
  }

  /** Issues server.next.pem|key (replacing a not yet activated pair); serves nothing new yet. */
  async renew(days: number | undefined): Promise<CertificateSummary> {
    if (days !== undefined && (!Number.isInteger(days) || days < 1 || days > MAX_DAYS))
      throw new AgentError('invalid_request', `"days" must be an integer from 1 to ${MAX_DAYS}`);
    return this.serial(async () => {
      const issued = await renewCertificate(this.pkiDir, SERVED, { outName: NEXT, ...(days !== undefined ? { days } : {}) });
      return summary(issued.certFile);
    });
  }

  /**
   * Makes the next pair the served one if its fingerprint is `fingerprint`, and switches the
   * running server. Asked again for the certificate already served (the answer was lost), it
   * answers the same. Any other fingerprint: invalid_request, nothing changed.
   */
  async activate(fingerprint: string): Promise<CertificateSummary> {
    const want = normalize(fingerprint);
    return this.serial(async () => {
      const nextPem = join(this.pkiDir, `${NEXT}.pem`);
      const next = (await exists(nextPem)) ? await summary(nextPem) : undefined;
      if (next?.fingerprint !== want) {
        const served = await this.current();
        if (served.fingerprint === want) return served;
        throw new AgentError(
          'invalid_request',
          next
            ? `the renewed certificate waiting for activation has fingerprint ${next.fingerprint}, not ${want}`
            : `no renewed certificate is waiting for activation (the agent serves ${served.fingerprint})`,
        );
      }
      await rename(join(this.pkiDir, `${NEXT}.key`), join(this.pkiDir, `${SERVED}.key`));
      await rename(nextPem, join(this.pkiDir, `${SERVED}.pem`));
      await fsyncDir(this.pkiDir);
      const pair = await readServedPair(this.pkiDir);
      try {
        this.install(pair);
      } finally {
        pair.key.fill(0);
      }
      return next;
    });
  }
}

function optDays(body: Body): number | undefined {
  const d = body['days'];
  if (d === undefined || d === null) return undefined;
  if (typeof d !== 'number') throw new AgentError('invalid_request', '"days" must be a number');
  return d;
}

type Body = Record<string, unknown>;

function certificates(c: ApiContext): AgentCertificates {
  if (!c.certificates) throw new AgentError('not_supported', 'this agent server cannot renew its certificate');
  return c.certificates;
}

/** The certificate routes, spread into the agent's route table (api.ts); center's certificate only. */
export const CERTIFICATE_ROUTES = [
  {
    method: 'POST',
    pattern: /^\/api\/v1\/certificate\/renew$/,
    handler: async (c: ApiContext, _p: string[], body: Body): Promise<unknown> => certificates(c).renew(optDays(body)),
  },
  {
    method: 'POST',
    pattern: /^\/api\/v1\/certificate\/activate$/,
    handler: async (c: ApiContext, _p: string[], body: Body): Promise<unknown> => {
      const f = body['fingerprint'];
      if (typeof f !== 'string' || f.length === 0 || f.length > 128) throw new AgentError('invalid_request', '"fingerprint" must be a non-empty string');
      const r = await certificates(c).activate(f);
      c.logger.info({ fingerprint: r.fingerprint, notAfter: r.notAfter }, 'server certificate activated');
      return r;
    },
  },
];
