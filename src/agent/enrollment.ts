/**
 * Enrollment: `agent init` prints a one-time token; center presents it once over mutual TLS with
 * its client certificate, which the agent then pins (by SHA-256 fingerprint). From then on the
 * agent serves only that certificate. The token is kept only as a hash.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './datastore.js';
import { AgentError } from './errors.js';

interface EnrollmentFile {
  tokenSha256: string | null;
  centerFingerprint: string | null;
  centerCertificate: string | null;
  enrolledAt: string | null;
}

function sha256(s: string | Buffer): Buffer {
  return createHash('sha256').update(s).digest();
}

export class Enrollment {
  private constructor(
    private readonly file: string,
    private data: EnrollmentFile,
  ) {}

  static async load(dataDir: string): Promise<Enrollment> {
    const file = join(dataDir, 'enrollment.json');
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new AgentError('datastore_invalid', `${file} is missing: run "cryptvisor agent init" first`, { cause: err });
    }
    try {
      return new Enrollment(file, JSON.parse(text) as EnrollmentFile);
    } catch (err) {
      throw new AgentError('datastore_invalid', `${file} is damaged`, { cause: err });
    }
  }

  /** Writes a fresh token (returned once, stored as a hash) and forgets any enrolled center. */
  static async create(dataDir: string): Promise<string> {
    const token = randomBytes(24).toString('base64url');
    const data: EnrollmentFile = { tokenSha256: sha256(token).toString('hex'), centerFingerprint: null, centerCertificate: null, enrolledAt: null };
    await writeFileAtomic(join(dataDir, 'enrollment.json'), JSON.stringify(data, null, 2) + '\n', 0o600);
    return token;
  }

  get enrolled(): boolean {
    return this.data.centerFingerprint !== null;
  }

  isCenter(fingerprint: string): boolean {
    const pinned = this.data.centerFingerprint;
    return pinned !== null && pinned.length === fingerprint.length && timingSafeEqual(Buffer.from(pinned), Buffer.from(fingerprint));
  }

  async enroll(token: string, certDer: Buffer, fingerprint: string): Promise<void> {
    if (this.enrolled) {
      if (this.isCenter(fingerprint)) return;
      throw new AgentError('already_enrolled', 'this host is already enrolled with another center');
    }
    const expected = this.data.tokenSha256;
    if (!expected || !timingSafeEqual(sha256(token), Buffer.from(expected, 'hex'))) {
      throw new AgentError('enrollment_invalid', 'the enrollment token is not valid for this host');
    }
    const pem = `-----BEGIN CERTIFICATE-----\n${certDer.toString('base64').replace(/(.{64})/g, '$1\n').trim()}\n-----END CERTIFICATE-----\n`;
    const next: EnrollmentFile = { tokenSha256: null, centerFingerprint: fingerprint, centerCertificate: pem, enrolledAt: new Date().toISOString() };
    await writeFileAtomic(this.file, JSON.stringify(next, null, 2) + '\n', 0o600);
    this.data = next;
  }
}
