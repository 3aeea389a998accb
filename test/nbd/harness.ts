/**
 * Test harness for the NBD server against real clients: serves a temporary image as a plain
 * FileDevice or as an EncryptedDevice over a FileDevice range (a 1 MiB stand-in for the LUKS2
 * header, then the payload), on a Unix socket and optionally on TCP with TLS. Clients run as
 * child processes, asynchronously: the server lives in this process's event loop.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { initCa, issueCertificate, type IssuedCertificate } from '../../src/common/pki.js';
import { SecretBytes, createXtsKey } from '../../src/crypto/index.js';
import { EncryptedDevice, EngineXtsCipher, FileDevice, NbdServer, type BlockDevice, type NbdTlsConfig } from '../../src/nbd/index.js';

export type DeviceKind = 'file' | 'encrypted';
export const KINDS: readonly DeviceKind[] = ['file', 'encrypted'];

/** Where the encrypted payload starts in its image (the LUKS2 header's place). */
export const PAYLOAD_OFFSET = 1024 * 1024;

export interface Served {
  readonly dir: string;
  readonly image: string;
  readonly socket: string;
  /** nbd+unix:///?socket=… (default export). */
  readonly uri: string;
  readonly size: number;
  readonly server: NbdServer;
  /** The device under the server, for checking what clients wrote. */
  readonly device: BlockDevice;
  /** TCP port when TLS is on. */
  readonly port?: number;
  /** Client certificate directory (ca-cert.pem, client-cert.pem, client-key.pem) when TLS is on. */
  readonly clientPki?: string;
  /** The same layout with a certificate from a CA the server does not trust. */
  readonly roguePki?: string;
}

export interface ServeOptions {
  readonly size?: number;
  readonly tls?: boolean;
  readonly readOnly?: boolean;
}

export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'cv-nbd-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export async function serve(t: TestContext, kind: DeviceKind, opts: ServeOptions = {}): Promise<Served> {
  const dir = tempDir(t);
  const size = opts.size ?? 16 * 1024 * 1024;
  const image = join(dir, 'disk.img');
  const base = kind === 'encrypted' ? PAYLOAD_OFFSET : 0;
  writeFileSync(image, '');
  truncateSync(image, base + size);
  const file = await FileDevice.open(image, { offset: base, size, readOnly: opts.readOnly });
  const device: BlockDevice = kind === 'encrypted' ? new EncryptedDevice(file, new EngineXtsCipher(randomXtsKey())) : file;
  // A fresh encrypted payload reads as the decryption of zeros (noise); start from real zeros.
  if (kind === 'encrypted' && !opts.readOnly) await device.writeZeroes(0, size);
  const pki = opts.tls ? await sharedPki() : undefined;
  const server = new NbdServer({
    exports: [
      { name: '', device, readOnly: opts.readOnly },
      { name: 'disk', device, description: `test ${kind} disk`, readOnly: opts.readOnly },
    ],
    tls: pki?.server,
  });
  const socket = join(dir, 'nbd.sock');
  await server.listenUnix(socket);
  const port = pki ? (await server.listenTcp(0)).port : undefined;
  t.after(async () => {
    await server.close();
    await device.close();
  });
  return { dir, image, socket, uri: `nbd+unix:///?socket=${socket}`, size, server, device, port, clientPki: pki?.clientDir, roguePki: pki?.rogueDir };
}

/** A random 64-byte XTS key for the production cipher (the engine of src/crypto). */
export function randomXtsKey(): ReturnType<typeof createXtsKey> {
  const secret = SecretBytes.random(64);
  try {
    return createXtsKey(secret);
  } finally {
    secret.dispose();
  }
}

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a client; rejects with its stderr when it exits non-zero. */
export function run(cmd: string, args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      { maxBuffer: 64 * 1024 * 1024, timeout: opts.timeoutMs ?? 60_000, env: { ...process.env, LIBNBD_DEBUG: '0' } },
      (err, stdout, stderr) => {
        if (err) reject(Object.assign(new Error(`${cmd} failed: ${err.message}\n${stderr}`), { stdout, stderr, code: err.code }));
        else resolve({ stdout, stderr });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function sha256File(path: string): string {
  return sha256(readFileSync(path));
}

/** The whole device as clients see it, read in process. */
export async function deviceHash(dev: BlockDevice): Promise<string> {
  const h = createHash('sha256');
  for (let at = 0; at < dev.size; at += 4 * 1024 * 1024) {
    const n = Math.min(4 * 1024 * 1024, dev.size - at);
    h.update(await dev.read(at, n));
  }
  return h.digest('hex');
}

interface Pki {
  readonly server: NbdTlsConfig;
  /** For libnbd and QEMU: ca-cert.pem, client-cert.pem, client-key.pem. */
  readonly clientDir: string;
  /** A client certificate from another CA, in the same layout. */
  readonly rogueDir: string;
}

let pkiOnce: Promise<Pki> | undefined;

/** One PKI per test process (made on first use, removed at exit). */
function sharedPki(): Promise<Pki> {
  if (pkiOnce === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'cv-nbd-pki-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    pkiOnce = makePki(dir);
  }
  return pkiOnce;
}

/**
 * A throwaway PKI made with the project's own src/common/pki.ts: a CA with a server certificate
 * (localhost, 127.0.0.1) and a client certificate, plus a client certificate from a second CA.
 */
export async function makePki(dir: string): Promise<Pki> {
  const caDir = join(dir, 'ca');
  const rogueCaDir = join(dir, 'rogue-ca');
  await initCa(caDir, { commonName: 'nbd test CA' });
  await initCa(rogueCaDir, { commonName: 'rogue CA' });
  const server = await issueCertificate(caDir, 'server', { kind: 'server', sans: ['localhost', '127.0.0.1'] });
  const client = await issueCertificate(caDir, 'client', { kind: 'client' });
  const rogue = await issueCertificate(rogueCaDir, 'rogue', { kind: 'client' });
  // libnbd's tls-certificates and QEMU's tls-creds-x509 dir both read this layout.
  const layout = (name: string, ca: string, cert: IssuedCertificate): string => {
    const d = join(dir, name);
    mkdirSync(d);
    copyFileSync(join(ca, 'ca.pem'), join(d, 'ca-cert.pem'));
    copyFileSync(cert.certFile, join(d, 'client-cert.pem'));
    copyFileSync(cert.keyFile, join(d, 'client-key.pem'));
    chmodSync(join(d, 'client-key.pem'), 0o600);
    return d;
  };
  return {
    server: { cert: readFileSync(server.certFile), key: readFileSync(server.keyFile), ca: readFileSync(join(caDir, 'ca.pem')) },
    clientDir: layout('client-pki', caDir, client),
    rogueDir: layout('rogue-pki', caDir, rogue),
  };
}

/** Deterministic test data (xorshift32). */
export function testData(length: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}
