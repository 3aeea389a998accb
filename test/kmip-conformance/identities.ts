/**
 * Client identities for tests: certificates with distinct subjects, signed by the KMS's own CA
 * (`D/pki/ca.pem` + `ca.key`), so each vector file runs as its own identity and owns only the objects
 * it creates. One RSA key pair is shared by all of them (the KMS identifies a client by its
 * certificate subject, not by its key), which makes issuing one cost a single signature.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TlsIdentity } from './ttlv-socket.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const RSA = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
} as const;

function pemBody(pem: string): Buffer {
  const b64 = pem.replace(/-----(BEGIN|END) [A-Z ]+-----/g, '').replace(/\s+/g, '');
  return Buffer.from(b64, 'base64');
}

export class IdentityFactory {
  private serial = 1;

  private constructor(
    private readonly caPem: string,
    private readonly caCert: x509.X509Certificate,
    private readonly caKey: CryptoKey,
    private readonly keys: CryptoKeyPair,
    private readonly keyPem: string,
  ) {}

  /** Reads the CA of a KMS data directory (`pkiDir` = `D/pki`). */
  static async fromPkiDir(pkiDir: string): Promise<IdentityFactory> {
    const caPem = readFileSync(join(pkiDir, 'ca.pem'), 'utf8');
    const caKeyPem = readFileSync(join(pkiDir, 'ca.key'), 'utf8');
    const caKey = await webcrypto.subtle.importKey('pkcs8', pemBody(caKeyPem), RSA, false, ['sign']);
    const keys = (await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify'])) as CryptoKeyPair;
    const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
    const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END PRIVATE KEY-----\n`;
    return new IdentityFactory(caPem, new x509.X509Certificate(caPem), caKey, keys, keyPem);
  }

  /** A client certificate with subject `CN=<commonName>` (EKU clientAuth unless `eku: false`). */
  async issue(commonName: string, opts: { eku?: boolean } = {}): Promise<TlsIdentity> {
    const now = Date.now();
    const extensions: x509.Extension[] = [new x509.BasicConstraintsExtension(false, undefined, true)];
    if (opts.eku !== false) extensions.push(new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth], false));
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: (this.serial++).toString(16).padStart(8, '0') + Date.now().toString(16),
      subject: `CN=${commonName}`,
      issuer: this.caCert.subject,
      notBefore: new Date(now - 300_000),
      notAfter: new Date(now + 86_400_000),
      signingAlgorithm: RSA,
      publicKey: this.keys.publicKey,
      signingKey: this.caKey,
      extensions,
    });
    return { ca: this.caPem, cert: cert.toString('pem'), key: this.keyPem };
  }
}

/** The identity in PEM files `dir/name.pem` and `dir/name.key`, trusting `dir/ca.pem`. */
export function identityFromFiles(dir: string, name: string): TlsIdentity {
  return {
    ca: readFileSync(join(dir, 'ca.pem')),
    cert: readFileSync(join(dir, `${name}.pem`)),
    key: readFileSync(join(dir, `${name}.key`)),
  };
}
