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
function randomXtsKey(): ReturnType<typeof createXtsKey> {
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

/** A throwaway CA with a server certificate (localhost, 127.0.0.1) and client certificates, made by openssl. */
export async function makePki(dir: string): Promise<Pki> {
  const p = join(dir, 'pki');
  mkdirSync(p);
  const f = (n: string): string => join(p, n);
  const ossl = (...a: string[]): Promise<RunResult> => run('openssl', a);
  const key = async (n: string): Promise<void> => {
    await ossl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', f(n));
  };
  const ca = async (n: string): Promise<void> => {
    await key(`${n}-key.pem`);
    await ossl('req', '-x509', '-new', '-key', f(`${n}-key.pem`), '-out', f(`${n}-cert.pem`), '-days', '2', '-subj', `/CN=${n}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  };
  const leaf = async (n: string, issuer: string, ext: string): Promise<void> => {
    await key(`${n}-key.pem`);
    await ossl('req', '-new', '-key', f(`${n}-key.pem`), '-out', f(`${n}.csr`), '-subj', `/CN=${n}`);
    writeFileSync(f(`${n}.ext`), ext);
    await ossl('x509', '-req', '-in', f(`${n}.csr`), '-CA', f(`${issuer}-cert.pem`), '-CAkey', f(`${issuer}-key.pem`),
      '-set_serial', String(Date.now()), '-out', f(`${n}-cert.pem`), '-days', '2', '-extfile', f(`${n}.ext`));
  };
  await ca('ca');
  await ca('rogue-ca');
  await leaf('server', 'ca', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n');
  const clientExt = 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n';
  await leaf('client', 'ca', clientExt);
  await leaf('rogue', 'rogue-ca', clientExt);
  const layout = (name: string, cert: string, k: string): string => {
    const d = join(dir, name);
    mkdirSync(d);
    copyFileSync(f('ca-cert.pem'), join(d, 'ca-cert.pem'));
    copyFileSync(f(cert), join(d, 'client-cert.pem'));
    copyFileSync(f(k), join(d, 'client-key.pem'));
    chmodSync(join(d, 'client-key.pem'), 0o600);
    return d;
  };
  return {
    server: { cert: readFileSync(f('server-cert.pem')), key: readFileSync(f('server-key.pem')), ca: readFileSync(f('ca-cert.pem')) },
    clientDir: layout('client-pki', 'client-cert.pem', 'client-key.pem'),
    rogueDir: layout('rogue-pki', 'rogue-cert.pem', 'rogue-key.pem'),
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
