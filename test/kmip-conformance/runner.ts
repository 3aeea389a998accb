/**
 * The OASIS vector runner: for each vector file, sends each request (binary TTLV over mutual TLS;
 * MSGENC-* over HTTPS `POST /kmip` in TTLV, JSON or XML) to a running KMS as an identity of its
 * own, and compares the actual response with the expected one (compare.ts). A file passes when
 * every exchange matches; the first mismatching exchange ends it (later requests depend on it).
 */
import { request as httpsRequest } from 'node:https';
import {
  Tag,
  decodeTtlv,
  encodeTtlv,
  enumDef,
  enumValueName,
  jsonToTtlv,
  ttlvToJson,
  xmlToTtlv,
} from '../../src/kmip/index.js';
import type { TtlvItem } from '../../src/kmip/index.js';
import { compareResponse, hex, type CompareContext, type Mismatch } from './compare.js';
import {
  ListedAttributes,
  headerVersionErratum,
  noEncodingKeyValueErratum,
  sendsObjectGroup,
  serverObjectGroupErratum,
} from './errata.js';
import { Bindings, resolveExpected, resolveRequest } from './placeholders.js';
import { TtlvSocket, type TlsIdentity } from './ttlv-socket.js';
import type { VectorFile } from './vector-file.js';

export type Encoding = 'ttlv' | 'json' | 'xml';

/** How a vector file is sent: MSGENC-HTTPS/JSON/XML over HTTPS, everything else over the KMIP port. */
export function transportOf(file: VectorFile): { kind: 'tls' } | { kind: 'https'; encoding: Encoding } {
  if (file.profile.startsWith('MSGENC-HTTPS')) return { kind: 'https', encoding: 'ttlv' };
  if (file.profile.startsWith('MSGENC-JSON')) return { kind: 'https', encoding: 'json' };
  if (file.profile.startsWith('MSGENC-XML')) return { kind: 'https', encoding: 'xml' };
  return { kind: 'tls' };
}

/**
 * The identity a vector file runs as. Files are independent (one identity each), except the Tape
 * Library profile: TL-M-3 reads, modifies and destroys the keys TL-M-2 wrote, as one library would,
 * so the TL-M files of one version share an identity (and run in order).
 */
export function identityName(file: VectorFile): string {
  return file.profile === 'TL-M' ? `vector-TL-M-${file.version}` : `vector-${file.name}`;
}

export interface ExchangeFailure {
  readonly exchange: number;
  readonly operation: string;
  readonly mismatches: readonly Mismatch[];
  /** A failure before comparison (transport, parse, unbound placeholder). */
  readonly error?: string;
}

export interface VectorResult {
  readonly file: VectorFile;
  readonly passed: boolean;
  readonly exchanges: number;
  /** Exchanges a vector erratum corrected, as `N (what)` (errata.ts). */
  readonly errata?: readonly string[];
  readonly failure?: ExchangeFailure;
}

const OPERATION = enumDef('Operation');
const OBJECT_TYPE = enumDef('ObjectType');

export function operationName(v: number): string {
  return (OPERATION && enumValueName(OPERATION, v)) ?? `0x${v.toString(16)}`;
}

/**
 * The operations and object types the in-scope vectors send: a Query answer must list those of
 * them the reference server listed.
 */
export function requiredLists(files: readonly VectorFile[]): { operations: Set<number>; objectTypes: Set<number> } {
  const operations = new Set<number>();
  const objectTypes = new Set<number>();
  for (const f of files) {
    for (const ex of f.exchanges) {
      for (const m of ex.request.matchAll(/<Operation type="Enumeration" value="(\w+)"/g)) {
        const v = OPERATION?.values[m[1]!];
        if (v !== undefined) operations.add(v);
      }
      for (const m of ex.request.matchAll(/<ObjectType type="Enumeration" value="(\w+)"/g)) {
        const v = OBJECT_TYPE?.values[m[1]!];
        if (v !== undefined) objectTypes.add(v);
      }
    }
  }
  return { operations, objectTypes };
}

/** Every ByteString (hex) and DateTime in a request, so that echoes of them are compared exactly. */
function collectSent(item: TtlvItem, bytes: Set<string>, dates: Set<bigint>): void {
  if (item.type === 'Structure') for (const c of item.value) collectSent(c, bytes, dates);
  else if (item.type === 'ByteString') bytes.add(hex(item.value));
  else if (item.type === 'DateTime') dates.add(item.value);
}

function firstOperation(item: TtlvItem): string {
  if (item.type !== 'Structure') return '?';
  const bi = item.value.find((c) => c.tag === Tag.BatchItem);
  const op = bi?.type === 'Structure' ? bi.value.find((c) => c.tag === Tag.Operation) : undefined;
  return op?.type === 'Enumeration' ? operationName(op.value) : '?';
}

interface Sender {
  send(request: TtlvItem, requestXml: string): Promise<TtlvItem>;
  close(): void;
}

const CONTENT_TYPE: Readonly<Record<Encoding, string>> = {
  ttlv: 'application/octet-stream',
  json: 'application/json',
  xml: 'text/xml',
};

function httpsSender(port: number, id: TlsIdentity, encoding: Encoding): Sender {
  return {
    send: (request, requestXml) =>
      new Promise<TtlvItem>((resolve, reject) => {
        const body =
          encoding === 'ttlv' ? encodeTtlv(request) : encoding === 'json' ? Buffer.from(ttlvToJson(request), 'utf8') : Buffer.from(requestXml, 'utf8');
        const req = httpsRequest(
          {
            host: '127.0.0.1',
            servername: 'localhost',
            port,
            path: '/kmip',
            method: 'POST',
            ca: id.ca,
            cert: id.cert,
            key: id.key,
            agent: false,
            headers: { 'content-type': CONTENT_TYPE[encoding], 'content-length': body.length },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const data = Buffer.concat(chunks);
              const type = String(res.headers['content-type'] ?? '');
              try {
                if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode} (${type}): ${data.toString('utf8').slice(0, 200)}`);
                if (!type.startsWith(CONTENT_TYPE[encoding])) throw new Error(`answered with Content-Type "${type}", expected ${CONTENT_TYPE[encoding]}`);
                if (encoding === 'ttlv') resolve(decodeTtlv(data));
                else if (encoding === 'json') resolve(jsonToTtlv(data.toString('utf8')));
                else resolve(xmlToTtlv(data.toString('utf8')));
              } catch (err) {
                reject(err instanceof Error ? err : new Error(String(err)));
              }
            });
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.setTimeout(10_000, () => req.destroy(new Error('HTTPS request timed out')));
        req.end(body);
      }),
    close: () => undefined,
  };
}

async function tlsSender(port: number, id: TlsIdentity): Promise<Sender> {
  const sock = await TtlvSocket.open(port, id);
  return {
    send: async (request) => decodeTtlv(await sock.roundTrip(encodeTtlv(request))),
    close: () => sock.close(),
  };
}

export interface RunOptions {
  readonly port: number;
  /** The HTTPS port for MSGENC (defaults to the KMIP port, where the server sniffs HTTP). */
  readonly httpsPort?: number;
  readonly identity: TlsIdentity;
  readonly required: { operations: ReadonlySet<number>; objectTypes: ReadonlySet<number> };
}

export async function runVectorFile(file: VectorFile, opts: RunOptions): Promise<VectorResult> {
  const t = transportOf(file);
  const bindings = new Bindings();
  const sentBytes = new Set<string>();
  const sentDates = new Set<bigint>();
  const ctx: CompareContext = {
    bindings,
    sentBytes,
    sentDates,
    requiredOperations: opts.required.operations,
    requiredObjectTypes: opts.required.objectTypes,
  };
  let sender: Sender;
  try {
    sender = t.kind === 'tls' ? await tlsSender(opts.port, opts.identity) : httpsSender(opts.httpsPort ?? opts.port, opts.identity, t.encoding);
  } catch (err) {
    return { file, passed: false, exchanges: 0, failure: { exchange: 0, operation: '?', mismatches: [], error: `connect: ${String(err)}` } };
  }
  const errata: string[] = [];
  const listed = new ListedAttributes();
  let sentObjectGroup = false;
  try {
    for (const ex of file.exchanges) {
      let operation = '?';
      try {
        const requestXml = resolveRequest(ex.request, bindings);
        const request = xmlToTtlv(requestXml);
        operation = firstOperation(request);
        collectSent(request, sentBytes, sentDates);
        sentObjectGroup ||= sendsObjectGroup(request);
        let expected = xmlToTtlv(resolveExpected(ex.response));
        const corrections: Array<[string, (e: TtlvItem) => TtlvItem | undefined]> = [
          ['header version', (e) => headerVersionErratum(e, request)],
          ['No Encoding Key Value', (e) => noEncodingKeyValueErratum(e)],
          ['server Object Group', (e) => serverObjectGroupErratum(e, sentObjectGroup)],
        ];
        for (const [what, fix] of corrections) {
          const corrected = fix(expected);
          if (!corrected) continue;
          expected = corrected;
          errata.push(`${ex.index} (${what})`);
        }
        listed.record(expected);
        let actual = await sender.send(request, requestXml);
        const trimmed = listed.allAttributesErratum(request, expected, actual);
        if (trimmed) {
          actual = trimmed;
          errata.push(`${ex.index} (attributes its GetAttributeList listed)`);
        }
        const mismatches = compareResponse(expected, actual, ctx, operationName);
        if (mismatches.length > 0) {
          return { file, passed: false, exchanges: ex.index, errata, failure: { exchange: ex.index, operation, mismatches } };
        }
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        return { file, passed: false, exchanges: ex.index, errata, failure: { exchange: ex.index, operation, mismatches: [], error } };
      }
    }
  } finally {
    sender.close();
  }
  return { file, passed: true, exchanges: file.exchanges.length, errata };
}

/** A failure as text: the file, the exchange, its operation and each mismatching path. */
export function formatFailure(r: VectorResult): string {
  const f = r.failure;
  if (!f) return `${r.file.path}: passed`;
  const head = `${r.file.path} exchange ${f.exchange} (${f.operation})`;
  if (f.error) return `${head}: ${f.error}`;
  return [head, ...f.mismatches.slice(0, 12).map((m) => `  ${m.path}: ${m.message}`), ...(f.mismatches.length > 12 ? [`  … ${f.mismatches.length - 12} more`] : [])].join('\n');
}

/** Pass counts per profile family and KMIP version, as a printable table. */
export function summarize(results: readonly VectorResult[]): { table: string; passed: number; total: number } {
  const rows = new Map<string, { pass: number; total: number }>();
  for (const r of results) {
    const key = `${r.file.profile.padEnd(18)} ${r.file.version}`;
    const row = rows.get(key) ?? { pass: 0, total: 0 };
    row.total++;
    if (r.passed) row.pass++;
    rows.set(key, row);
  }
  const lines = [...rows.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}  ${String(v.pass).padStart(3)}/${v.total}`);
  const passed = results.filter((r) => r.passed).length;
  lines.push(`${'total'.padEnd(22)}  ${String(passed).padStart(3)}/${results.length}`);
  return { table: lines.join('\n'), passed, total: results.length };
}
