/**
 * The project's small PKI (docs/pki.md): a CA in a directory, server and client certificates
 * signed by it, CSR signing for center, and certificate inspection. RSA 2048 keys and SHA-256
 * signatures, so the KMS can offer the ECDHE-RSA suites PyKMIP's TLS1.2 suite needs.
 *
 * Files: `D/ca.pem`, `D/ca.key`, `D/NAME.pem`, `D/NAME.key`; keys are PKCS#8 PEM, mode 0600.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createHash, randomBytes, webcrypto } from 'node:crypto';
import { mkdir, readFile, unlink } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-write.js';
import { CommonError } from './errors.js';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const subtle = webcrypto.subtle;
const RSA_ALG = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
} as const;
const DAY_MS = 86_400_000;
/** Certificates start 5 minutes in the past, for clock skew between machines. */
const SKEW_MS = 5 * 60_000;
const DEFAULT_CA_DAYS = 3650;
const DEFAULT_LEAF_DAYS = 825;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const DNS_RE = /^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$/;

export type CertificateKind =
  { readonly kind: 'server'; readonly sans: readonly string[] } | { readonly kind: 'client' };

export interface CertificateOptions {
  /** Subject CN; defaults to the file name. */
  readonly commonName?: string;
  /** Validity in days (default 825; CA 3650). */
  readonly days?: number;
}

export interface IssuedCertificate {
  readonly certFile: string;
  readonly keyFile: string;
  readonly fingerprintSha256: string;
}

export interface CertificateInfo {
  readonly subject: string;
  readonly issuer: string;
  readonly serialNumber: string;
  readonly notBefore: string;
  readonly notAfter: string;
  /** SHA-256 of the DER certificate, upper-case hex pairs joined by colons (as openssl prints it). */
  readonly fingerprintSha256: string;
  /** Subject alternative names as `DNS:name` / `IP:address`. */
  readonly sans: readonly string[];
  /** Extended key usages by name (`serverAuth`, `clientAuth`) or OID. */
  readonly eku: readonly string[];
  readonly isCa: boolean;
}

const EKU_NAMES: Readonly<Record<string, string>> = {
  [x509.ExtendedKeyUsage.serverAuth]: 'serverAuth',
  [x509.ExtendedKeyUsage.clientAuth]: 'clientAuth',
  [x509.ExtendedKeyUsage.codeSigning]: 'codeSigning',
  [x509.ExtendedKeyUsage.emailProtection]: 'emailProtection',
  [x509.ExtendedKeyUsage.timeStamping]: 'timeStamping',
  [x509.ExtendedKeyUsage.ocspSigning]: 'OCSPSigning',
};

function checkName(name: string): void {
  if (!NAME_RE.test(name) || name === 'ca') {
    throw new CommonError(
      'usage',
      `certificate name "${name}" must be 1-64 of A-Z a-z 0-9 . _ - (and not "ca")`,
    );
  }
}

function checkDays(days: number | undefined, fallback: number): number {
  const d = days ?? fallback;
  if (!Number.isInteger(d) || d < 1 || d > 36500)
    throw new CommonError('usage', `days must be an integer from 1 to 36500`);
  return d;
}

/** Splits SAN entries into IP and DNS general names; refuses anything else. */
export function parseSans(sans: readonly string[]): x509.JsonGeneralName[] {
  const out: x509.JsonGeneralName[] = [];
  for (const raw of sans) {
    const s = raw.trim();
    if (s === '') continue;
    if (isIP(s)) out.push({ type: 'ip', value: s });
    else if (DNS_RE.test(s) && s.length <= 253) out.push({ type: 'dns', value: s.toLowerCase() });
    else throw new CommonError('usage', `"${s}" is neither an IP address nor a DNS name`);
  }
  return out;
}

function serialNumber(): string {
  const b = randomBytes(16);
  b[0] = (b[0] as number) & 0x7f; // positive
  if (b[0] === 0) b[0] = 0x01; // no leading zero byte
  return b.toString('hex');
}

function cnName(cn: string): x509.JsonName {
  if (cn.length === 0 || cn.length > 64) throw new CommonError('usage', 'a common name is 1-64 characters');
  return [{ CN: [cn] }];
}

function fingerprint(der: ArrayBuffer): string {
  return createHash('sha256')
    .update(Buffer.from(der))
    .digest('hex')
    .toUpperCase()
    .replace(/(..)(?=.)/g, '$1:');
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return (await subtle.generateKey(RSA_ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await subtle.exportKey('pkcs8', key));
  try {
    return x509.PemConverter.encode(der, 'PRIVATE KEY');
  } finally {
    der.fill(0);
  }
}

async function importPrivateKey(pem: string): Promise<CryptoKey> {
  let der: ArrayBuffer;
  try {
    der = x509.PemConverter.decodeFirst(pem);
  } catch (err) {
    throw new CommonError('pki_invalid', 'not a PEM private key', { cause: err });
  }
  try {
    return await subtle.importKey('pkcs8', der, RSA_ALG, false, ['sign']);
  } catch (err) {
    throw new CommonError('pki_invalid', 'not an RSA PKCS#8 private key', { cause: err });
  } finally {
    new Uint8Array(der).fill(0);
  }
}

function parseCertificate(pem: string): x509.X509Certificate {
  try {
    return new x509.X509Certificate(pem);
  } catch (err) {
    throw new CommonError('pki_invalid', 'not a PEM certificate', { cause: err });
  }
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new CommonError('file_not_found', `no such file: ${file}`);
    throw err;
  }
}

interface Ca {
  readonly cert: x509.X509Certificate;
  readonly key: CryptoKey;
}

async function loadCa(dir: string): Promise<Ca> {
  const cert = parseCertificate(await readText(join(dir, 'ca.pem')));
  const key = await importPrivateKey(await readText(join(dir, 'ca.key')));
  return { cert, key };
}

async function leafExtensions(
  ca: Ca,
  publicKey: CryptoKey | x509.PublicKey,
  kind: 'server' | 'client',
  sans: x509.JsonGeneralName[],
): Promise<x509.Extension[]> {
  const exts: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(
      x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
      true,
    ),
    new x509.ExtendedKeyUsageExtension(
      [kind === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth],
      false,
    ),
    await x509.SubjectKeyIdentifierExtension.create(publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(ca.cert.publicKey),
  ];
  if (sans.length > 0) exts.push(new x509.SubjectAlternativeNameExtension(sans, false));
  return exts;
}

async function signLeaf(
  ca: Ca,
  subject: x509.JsonName | x509.Name,
  publicKey: CryptoKey | x509.PublicKey,
  kind: 'server' | 'client',
  sans: x509.JsonGeneralName[],
  days: number,
): Promise<x509.X509Certificate> {
  if (kind === 'server' && sans.length === 0)
    throw new CommonError('usage', 'a server certificate needs at least one SAN');
  const now = Date.now();
  const notAfter = Math.min(now + days * DAY_MS, ca.cert.notAfter.getTime());
  return x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject,
    issuer: ca.cert.subjectName,
    notBefore: new Date(now - SKEW_MS),
    notAfter: new Date(notAfter),
    signingAlgorithm: RSA_ALG,
    publicKey,
    signingKey: ca.key,
    extensions: await leafExtensions(ca, publicKey, kind, sans),
  });
}

/** Creates `dir/ca.pem` and `dir/ca.key` (0600); refuses an existing CA with CommonError('file_exists'). */
export async function initCa(
  dir: string,
  opts: { commonName?: string; days?: number } = {},
): Promise<IssuedCertificate> {
  const days = checkDays(opts.days, DEFAULT_CA_DAYS);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const certFile = join(dir, 'ca.pem');
  const keyFile = join(dir, 'ca.key');
  const keys = await generateKeys();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: cnName(opts.commonName ?? 'cryptvisor CA'),
    notBefore: new Date(now - SKEW_MS),
    notAfter: new Date(now + days * DAY_MS),
    signingAlgorithm: RSA_ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  await writeFileAtomic(keyFile, await privateKeyPem(keys.privateKey), { mode: 0o600, exclusive: true });
  try {
    await writeFileAtomic(certFile, cert.toString('pem') + '\n', { mode: 0o644, exclusive: true });
  } catch (err) {
    await unlink(keyFile).catch(() => undefined);
    throw err;
  }
  return { certFile, keyFile, fingerprintSha256: fingerprint(cert.rawData) };
}

async function writeLeaf(
  dir: string,
  name: string,
  cert: x509.X509Certificate,
  keyPem: string,
  exclusive: boolean,
): Promise<IssuedCertificate> {
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}.key`);
  await writeFileAtomic(keyFile, keyPem, { mode: 0o600, exclusive });
  await writeFileAtomic(certFile, cert.toString('pem') + '\n', { mode: 0o644, exclusive });
  return { certFile, keyFile, fingerprintSha256: fingerprint(cert.rawData) };
}

/** Issues `dir/name.pem` + `dir/name.key` (0600) signed by the CA in dir; refuses existing files. */
export async function issueCertificate(
  dir: string,
  name: string,
  kind: CertificateKind,
  opts: CertificateOptions = {},
): Promise<IssuedCertificate> {
  checkName(name);
  const days = checkDays(opts.days, DEFAULT_LEAF_DAYS);
  const sans = kind.kind === 'server' ? parseSans(kind.sans) : [];
  const ca = await loadCa(dir);
  const keys = await generateKeys();
  const cert = await signLeaf(ca, cnName(opts.commonName ?? name), keys.publicKey, kind.kind, sans, days);
  return writeLeaf(dir, name, cert, await privateKeyPem(keys.privateKey), true);
}

/**
 * Re-issues `dir/name.pem` with a fresh key pair and validity, keeping its subject, SANs and kind
 * (from its EKU); replaces both files atomically. With `outName` the new pair is written as
 * `dir/outName.pem|key` instead (replacing those) and `name`'s files are left as they are.
 */
export async function renewCertificate(
  dir: string,
  name: string,
  opts: { days?: number; outName?: string } = {},
): Promise<IssuedCertificate> {
  checkName(name);
  const out = opts.outName ?? name;
  checkName(out);
  const days = checkDays(opts.days, DEFAULT_LEAF_DAYS);
  const old = parseCertificate(await readText(join(dir, `${name}.pem`)));
  const info = certificateInfo(old.toString('pem'));
  const kind = info.eku.includes('serverAuth') ? 'server' : 'client';
  const sanExt = old.getExtension(x509.SubjectAlternativeNameExtension);
  const sans = sanExt ? (sanExt.names.toJSON() as x509.JsonGeneralName[]) : [];
  const ca = await loadCa(dir);
  const keys = await generateKeys();
  const cert = await signLeaf(ca, old.subjectName, keys.publicKey, kind, sans, days);
  return writeLeaf(dir, out, cert, await privateKeyPem(keys.privateKey), false);
}

/** Makes a key pair and a CSR with subject CN=commonName (center's enrolment path). */
export async function createCsr(
  commonName: string,
  opts: { sans?: readonly string[] } = {},
): Promise<{ csrPem: string; keyPem: string }> {
  const keys = await generateKeys();
  const sans = parseSans(opts.sans ?? []);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: cnName(commonName),
    keys,
    signingAlgorithm: RSA_ALG,
    extensions: sans.length > 0 ? [new x509.SubjectAlternativeNameExtension(sans, false)] : [],
  });
  return { csrPem: csr.toString('pem') + '\n', keyPem: await privateKeyPem(keys.privateKey) };
}

/**
 * Signs a CSR with the CA in dir, after checking its signature. The subject is the CSR's; a server
 * certificate takes `sans` if given, else the CSR's SAN extension. Returns the certificate PEM.
 */
export async function signCsr(
  dir: string,
  csrPem: string,
  opts: { kind: 'server' | 'client'; sans?: readonly string[]; days?: number },
): Promise<string> {
  const days = checkDays(opts.days, DEFAULT_LEAF_DAYS);
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch (err) {
    throw new CommonError('pki_invalid', 'not a PEM certificate request', { cause: err });
  }
  if (!(await csr.verify()))
    throw new CommonError('pki_invalid', 'the certificate request signature does not verify');
  if (csr.publicKey.algorithm.name !== 'RSASSA-PKCS1-v1_5' && csr.publicKey.algorithm.name !== 'RSA-PSS') {
    throw new CommonError('pki_invalid', 'the certificate request key is not RSA');
  }
  let sans: x509.JsonGeneralName[] = [];
  if (opts.kind === 'server') {
    if (opts.sans) sans = parseSans(opts.sans);
    else {
      const ext = csr.extensions.find(
        (e): e is x509.SubjectAlternativeNameExtension => e instanceof x509.SubjectAlternativeNameExtension,
      );
      const requested = ext ? (ext.names.toJSON() as x509.JsonGeneralName[]) : [];
      sans = parseSans(requested.filter((n) => n.type === 'dns' || n.type === 'ip').map((n) => n.value));
    }
  }
  const ca = await loadCa(dir);
  const cert = await signLeaf(ca, csr.subjectName, csr.publicKey, opts.kind, sans, days);
  return cert.toString('pem') + '\n';
}

/** Facts about a PEM certificate (the first one in the text). */
export function certificateInfo(pem: string): CertificateInfo {
  const cert = parseCertificate(pem);
  const sanExt = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const sans = sanExt
    ? (sanExt.names.toJSON() as x509.JsonGeneralName[]).map(
        (n) => `${n.type === 'ip' ? 'IP' : n.type.toUpperCase()}:${n.value}`,
      )
    : [];
  const ekuExt = cert.getExtension(x509.ExtendedKeyUsageExtension);
  const eku = ekuExt ? Array.from(ekuExt.usages, (u) => EKU_NAMES[String(u)] ?? String(u)) : [];
  const bc = cert.getExtension(x509.BasicConstraintsExtension);
  return {
    subject: cert.subject,
    issuer: cert.issuer,
    serialNumber: cert.serialNumber,
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    fingerprintSha256: fingerprint(cert.rawData),
    sans,
    eku,
    isCa: bc?.ca ?? false,
  };
}

/** Checks that `certPem` was signed by the CA certificate `caPem` and is within its validity. */
export async function verifyIssuedBy(
  certPem: string,
  caPem: string,
  at: Date = new Date(),
): Promise<boolean> {
  const cert = parseCertificate(certPem);
  const ca = parseCertificate(caPem);
  return cert.verify({ publicKey: ca.publicKey, date: at });
}
