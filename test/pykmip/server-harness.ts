/**
 * Starts Debian's `pykmip-server` (package python3-pykmip) for tests: a throw-away PKI made with the
 * project's PKI (src/common/pki.ts, RSA), a config file with `auth_suite=TLS1.2`, a temp SQLite database, and a free port
 * (PyKMIP cannot bind port 0). `startPykmipServer` resolves once the server accepts connections.
 *
 * Also here: `makeTestPki` (CA, server and client certificates, with the EKUs PyKMIP checks),
 * `freePort`, and two misbehaving servers for failover and timeout tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import tls from 'node:tls';
import { initCa, issueCertificate } from '../../src/common/pki.js';

/** PEM texts of a CA and of one server and one client certificate it issued. */
export interface TestPki {
  readonly dir: string;
  readonly ca: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** Paths of the same files, for peers that read files. */
  readonly paths: {
    readonly ca: string;
    readonly serverCert: string;
    readonly serverKey: string;
    readonly clientCert: string;
    readonly clientKey: string;
  };
}

/** A CA plus a server certificate (127.0.0.1, localhost; serverAuth) and a client one (clientAuth). */
export async function makeTestPki(dir: string): Promise<TestPki> {
  await initCa(dir, { commonName: 'cryptvisor test CA', days: 2 });
  await issueCertificate(dir, 'server', { kind: 'server', sans: ['127.0.0.1', 'localhost'] }, { days: 2 });
  await issueCertificate(dir, 'client', { kind: 'client' }, { days: 2 });
  const paths = {
    ca: join(dir, 'ca.pem'),
    serverCert: join(dir, 'server.pem'),
    serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.pem'),
    clientKey: join(dir, 'client.key'),
  };
  const [ca, serverCert, serverKey, clientCert, clientKey] = await Promise.all(
    [paths.ca, paths.serverCert, paths.serverKey, paths.clientCert, paths.clientKey].map((p) =>
      readFile(p, 'utf8'),
    ),
  );
  return {
    dir,
    ca: ca!,
    serverCert: serverCert!,
    serverKey: serverKey!,
    clientCert: clientCert!,
    clientKey: clientKey!,
    paths,
  };
}

/** A TCP port that was free a moment ago (the OS picks it; a race with other processes is possible). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function tryConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface PykmipServer {
  readonly host: string;
  readonly port: number;
  readonly pki: TestPki;
  readonly logPath: string;
  /** The server's log (for a failing test's message). */
  log(): Promise<string>;
  /** Kills the server's process group and removes its directory. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Reuse a PKI (for several servers of one test trusting the same CA). */
  readonly pki?: TestPki;
  readonly startTimeoutMs?: number;
}

function killGroup(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return resolve();
    child.once('exit', () => resolve());
    try {
      // The server forks a multiprocessing manager: kill the whole group this harness created.
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      resolve();
    }
  });
}

/** Starts `pykmip-server` (auth_suite=TLS1.2, client certificates required) and waits until it accepts. */
export async function startPykmipServer(opts: StartOptions = {}): Promise<PykmipServer> {
  const dir = await mkdtemp(join(tmpdir(), 'cv-pykmip-'));
  const pki = opts.pki ?? (await makeTestPki(join(dir, 'pki')));
  const policies = join(dir, 'policies');
  await mkdir(policies);
  const logPath = join(dir, 'server.log');
  const host = '127.0.0.1';
  const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);

  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const conf = [
      '[server]',
      `hostname=${host}`,
      `port=${port}`,
      `certificate_path=${pki.paths.serverCert}`,
      `key_path=${pki.paths.serverKey}`,
      `ca_path=${pki.paths.ca}`,
      'auth_suite=TLS1.2',
      `policy_path=${policies}`,
      'enable_tls_client_auth=True',
      'logging_level=INFO',
      `database_path=${join(dir, `pykmip-${attempt}.db`)}`,
      '',
    ].join('\n');
    const confPath = join(dir, 'server.conf');
    await writeFile(confPath, conf);
    const child = spawn('/usr/bin/pykmip-server', ['-f', confPath, '-l', logPath], {
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 16_384) stderr += d;
    });
    let exited = false;
    child.once('exit', () => (exited = true));

    while (!exited && Date.now() < deadline) {
      if (await tryConnect(host, port)) {
        const log = () => readFile(logPath, 'utf8').catch(() => '');
        return {
          host,
          port,
          pki,
          logPath,
          log,
          stop: async () => {
            await killGroup(child);
            await rm(dir, { recursive: true, force: true });
          },
        };
      }
      await delay(100);
    }
    await killGroup(child);
    // The port may have been taken between freePort() and bind(): try another one.
    if (exited && attempt < 3 && Date.now() < deadline) continue;
    const log = await readFile(logPath, 'utf8').catch(() => '');
    await rm(dir, { recursive: true, force: true });
    throw new Error(`pykmip-server did not start on ${host}:${port}\n${stderr}\n${log.slice(-4000)}`);
  }
}

/** A TLS server that completes the handshake (mutual TLS) and reads requests, but never answers. */
export async function startSilentTlsServer(
  pki: TestPki,
): Promise<{ port: number; accepted: () => number; stop: () => Promise<void> }> {
  let accepted = 0;
  const sockets = new Set<net.Socket>();
  const srv = tls.createServer(
    { cert: pki.serverCert, key: pki.serverKey, ca: pki.ca, requestCert: true, rejectUnauthorized: true },
    (s) => {
      accepted++;
      sockets.add(s);
      s.on('data', () => undefined);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    },
  );
  srv.on('tlsClientError', () => undefined);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const addr = srv.address() as net.AddressInfo;
  return {
    port: addr.port,
    accepted: () => accepted,
    stop: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}

/** A TCP server that accepts connections and never speaks (the TLS handshake never completes). */
export async function startMuteTcpServer(): Promise<{ port: number; stop: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const addr = srv.address() as net.AddressInfo;
  return {
    port: addr.port,
    stop: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}
