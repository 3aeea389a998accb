/** A client of the agent API over HTTPS with mutual TLS, for tests (center's side). */
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { initCa, issueCertificate } from '../../src/common/pki.js';

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
