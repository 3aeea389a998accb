/**
 * What `cryptvisor demo` looks at to show each step holds, read from outside the services: the
 * KMS's audit records (its SQLite store under D/kms, read-only), a host agent's API (over mutual
 * TLS with center's client identity, as center itself calls it), files scanned for secret bytes,
 * and side-by-side hexdumps.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { UpError } from './up-errors.js';

export interface KmsAuditRecord {
  readonly at: string;
  readonly identity: string;
  readonly operation: string;
  readonly result: string;
}

/** The KMS's audit records of one object since an ISO time (the KMS appends them within ~100 ms). */
export function kmsAudit(kmsDir: string, objectId: string, since: string): KmsAuditRecord[] {
  const db = new Database(join(kmsDir, 'kms.db'), { readonly: true, fileMustExist: true });
  try {
    return db
      .prepare(
        'SELECT at, identity, operation, result FROM audit WHERE object_id = ? AND at >= ? ORDER BY seq',
      )
      .all(objectId, since) as KmsAuditRecord[];
  } finally {
    db.close();
  }
}

export interface AgentTls {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/** One GET of a host agent's API; the answer's JSON, or an error. */
export function agentGet<T>(apiUrl: string, tls: AgentTls, path: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, apiUrl),
      { method: 'GET', ca: tls.ca, cert: tls.cert, key: tls.key, timeout: 5000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as T;
            if (res.statusCode === 200) resolve(body);
            else reject(new UpError('demo_failed', `the agent answered ${res.statusCode} to GET ${path}`));
          } catch (err) {
            reject(new UpError('demo_failed', `the agent answered GET ${path} without JSON`, { cause: err }));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** Every regular file under the given paths (files or directories). */
export async function listFiles(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  const walk = async (p: string): Promise<void> => {
    const s = await stat(p).catch(() => undefined);
    if (!s) return;
    if (s.isDirectory()) {
      for (const e of await readdir(p)) await walk(join(p, e));
    } else if (s.isFile()) out.push(p);
  };
  for (const p of paths) await walk(p);
  return out;
}

export interface ScanResult {
  readonly files: number;
  readonly bytes: number;
  /** Files holding a needle, with the needle's label. */
  readonly hits: readonly { file: string; what: string }[];
}

/**
 * Looks for each secret in every file: raw, as hex and as base64 (how a key could leak through
 * JSON or a log). The needles are zeroed by the caller.
 */
export async function scanForSecrets(
  files: readonly string[],
  secrets: readonly { what: string; bytes: Buffer }[],
): Promise<ScanResult> {
  const needles = secrets.flatMap((s) => [
    { what: `${s.what} (raw)`, b: s.bytes },
    { what: `${s.what} (hex)`, b: Buffer.from(s.bytes.toString('hex')) },
    { what: `${s.what} (base64)`, b: Buffer.from(s.bytes.toString('base64')) },
  ]);
  const hits: { file: string; what: string }[] = [];
  let bytes = 0;
  try {
    for (const file of files) {
      const data = await readFile(file).catch(() => undefined);
      if (!data) continue;
      bytes += data.length;
      for (const n of needles) if (data.includes(n.b)) hits.push({ file, what: n.what });
      data.fill(0);
    }
  } finally {
    for (const n of needles) n.b.fill(0);
  }
  return { files: files.length, bytes, hits };
}

function hexLine(b: Buffer): string {
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');
  const ascii = [...b].map((x) => (x >= 0x20 && x < 0x7f ? String.fromCharCode(x) : '.')).join('');
  return `${hex}  ${ascii}`;
}

/** Two buffers side by side, 16 bytes a line, with their offsets. */
export function hexdumpSideBySide(
  left: Buffer,
  leftOffset: number,
  right: Buffer,
  rightOffset: number,
  lines: number,
): string[] {
  const out: string[] = [];
  for (let i = 0; i < lines && i * 16 < Math.max(left.length, right.length); i++) {
    const l = left.subarray(i * 16, i * 16 + 16);
    const r = right.subarray(i * 16, i * 16 + 16);
    out.push(
      `${(leftOffset + i * 16).toString(16).padStart(8, '0')}  ${hexLine(l)}  |  ${(rightOffset + i * 16).toString(16).padStart(8, '0')}  ${hexLine(r)}`,
    );
  }
  return out;
}
