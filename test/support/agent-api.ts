/** A client of the agent API over HTTPS with mutual TLS, for tests (center's side). */
import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { initCa, issueCertificate } from '../../src/common/pki.js';
import { cliAsync } from './cli.js';

export interface ClientTls {
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers, checked field by field in tests
export type Json = any;

/** One request to the agent on 127.0.0.1:port; resolves with the status and the parsed JSON body. */
export function agentCall(
  port: number,
  tls: ClientTls,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Json }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        ca: tls.ca,
        cert: tls.cert,
        key: tls.key,
        servername: 'localhost',
        headers: data ? { 'content-type': 'application/json', 'content-length': data.length } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            json: JSON.parse(Buffer.concat(chunks).toString() || 'null'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

/** Makes center's CA and client certificate under root/center; trusts the agent's CA in agentDir. */
export async function centerTls(root: string, agentDir: string): Promise<ClientTls> {
  const dir = join(root, 'center');
  await initCa(dir);
  await issueCertificate(dir, 'center', { kind: 'client' });
  return {
    ca: await readFile(join(agentDir, 'pki', 'ca.pem')),
    cert: await readFile(join(dir, 'center.pem')),
    key: await readFile(join(dir, 'center.key')),
  };
}

/** Spawns a real `cryptvisor agent serve --data dir --port 0`; resolves once it listens. */
export async function spawnAgent(dir: string): Promise<{ proc: ChildProcess; port: number }> {
  const proc = cliAsync(['agent', 'serve', '--data', dir, '--port', '0']);
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on https:\/\/[^:]+:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (code) => reject(new Error(`agent exited (${code})`)));
  });
  return { proc, port };
}
