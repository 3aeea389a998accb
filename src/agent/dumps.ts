/**
 * Sealed crash dumps (docs/agent.md, "Crash dumps"). A dump is a Node diagnostic report and a V8
 * heap snapshot, streamed straight into one file sealed under the host key (purpose
 * `host-crash-dump`, file id = the file's base name without `.cvdump`) in `<data>/dumps/`. The
 * heap holds KEKs and DEKs, so nothing of it ever touches a plain file. Without a host key no dump
 * is written.
 *
 * The sealed plaintext is a small container:
 *   `CVDUMP1\n` + one JSON line {hostId, reason, createdAt, reportBytes} + the report (JSON,
 *   reportBytes long) + the heap snapshot (JSON, to the end).
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { getHeapSnapshot } from 'node:v8';
import { createSealedWriter, openSealedReader, type SecretBytes } from '../crypto/index.js';
import type { Logger } from '../common/logging.js';
import { AgentError } from './errors.js';
import type { KeyCache } from './keys.js';

export const DUMP_PURPOSE = 'host-crash-dump';
export const DUMP_SUFFIX = '.cvdump';
const MAGIC = 'CVDUMP1\n';
const MAX_META = 4096;

export interface DumpMeta {
  readonly hostId: string;
  readonly reason: string;
  readonly createdAt: string;
  readonly reportBytes: number;
}

export interface DumpInfo extends Omit<DumpMeta, 'reportBytes'> {
  readonly file: string;
  readonly bytes: number;
}

/** The sealed-file id of a dump: its base name without the suffix (so a dump must not be renamed). */
export function dumpFileId(path: string): string {
  const name = basename(path);
  return name.endsWith(DUMP_SUFFIX) ? name.slice(0, -DUMP_SUFFIX.length) : name;
}

/** Turns off Node's own report triggers, which would write plaintext files. */
function disableNodeReports(): void {
  process.report.reportOnFatalError = false;
  process.report.reportOnSignal = false;
  process.report.reportOnUncaughtException = false;
}

export interface DumpWriterOptions {
  readonly dataDir: string;
  readonly hostId: string;
  readonly keys: KeyCache;
  readonly logger: Logger;
}

export class DumpWriter {
  readonly #o: DumpWriterOptions;

  constructor(opts: DumpWriterOptions) {
    this.#o = opts;
    disableNodeReports();
  }

  get dir(): string {
    return join(this.#o.dataDir, 'dumps');
  }

  /** Writes one sealed dump; fails with host_key_missing (and writes nothing) without the host key. */
  async write(reason: string): Promise<DumpInfo> {
    const hostKey = this.#o.keys.hostKey;
    if (!hostKey)
      throw new AgentError(
        'host_key_missing',
        'no host key on this host: push the host key before a dump can be written',
      );
    if (!/^[a-z0-9-]{1,32}$/.test(reason))
      throw new AgentError('invalid_request', 'a dump reason is 1-32 characters of a-z, 0-9 and "-"');
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const createdAt = new Date().toISOString();
    const name = `dump-${createdAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${reason}-${randomBytes(4).toString('hex')}`;
    const file = join(this.dir, name + DUMP_SUFFIX);
    const writer = await createSealedWriter(hostKey.key, file, {
      purpose: DUMP_PURPOSE,
      fileId: name,
      fsync: true,
    });
    try {
      const report = Buffer.from(JSON.stringify(process.report.getReport()), 'utf8');
      const meta: DumpMeta = { hostId: this.#o.hostId, reason, createdAt, reportBytes: report.length };
      await writer.write(Buffer.from(MAGIC + JSON.stringify(meta) + '\n', 'utf8'));
      await writer.write(report);
      report.fill(0);
      for await (const chunk of getHeapSnapshot() as AsyncIterable<Buffer | string>) {
        const b = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
        await writer.write(b);
        b.fill(0);
      }
      await writer.finish();
    } catch (err) {
      await writer.abort();
      throw err;
    }
    this.#o.logger.info({ file, reason, bytes: writer.bytesWritten }, 'sealed dump written');
    return { file, hostId: this.#o.hostId, reason, createdAt, bytes: writer.bytesWritten };
  }

  /**
   * On an uncaught exception: log it, write a sealed dump (when the host key is present), and exit
   * with status 70. Returns a function that removes the handler.
   */
  installCrashHandler(exit: (code: number) => void = (c) => process.exit(c)): () => void {
    const onCrash = (err: unknown): void => {
      const log = this.#o.logger;
      log.error(
        { err: err instanceof Error ? err.message : String(err) },
        'uncaught exception; writing a sealed dump',
      );
      this.write('crash')
        .catch((e: unknown) =>
          log.error({ err: e instanceof Error ? e.message : String(e) }, 'no dump written'),
        )
        .finally(() => exit(70));
    };
    process.on('uncaughtException', onCrash);
    return () => process.off('uncaughtException', onCrash);
  }
}

/** Yields the plaintext of a host-key-sealed dump, verified chunk by chunk. */
export async function* readDump(hostKey: SecretBytes, file: string): AsyncGenerator<Buffer, void, undefined> {
  const reader = await openSealedReader(hostKey, file, { purpose: DUMP_PURPOSE, fileId: dumpFileId(file) });
  yield* reader.chunks();
}

function dumpInvalid(why: string): AgentError {
  return new AgentError('invalid_request', `not a cryptvisor dump: ${why}`);
}

/** Where the parts of a dump go while it is split (see splitDump). */
export interface DumpSink {
  report(data: Buffer): Promise<void>;
  heap(data: Buffer): Promise<void>;
}

/** Splits a dump's plaintext stream into its report and heap snapshot; returns the metadata. */
export async function splitDump(plain: AsyncIterable<Buffer>, sink: DumpSink): Promise<DumpMeta> {
  let head = Buffer.alloc(0);
  let meta: DumpMeta | undefined;
  let reportLeft = 0;
  for await (let chunk of plain) {
    if (!meta) {
      head = Buffer.concat([head, chunk]);
      const nl = head.indexOf(10, MAGIC.length);
      if (head.length >= MAGIC.length && head.subarray(0, MAGIC.length).toString('latin1') !== MAGIC)
        throw dumpInvalid('bad magic');
      if (nl < 0) {
        if (head.length > MAX_META) throw dumpInvalid('metadata too long');
        continue;
      }
      try {
        meta = JSON.parse(head.subarray(MAGIC.length, nl).toString('utf8')) as DumpMeta;
      } catch {
        throw dumpInvalid('metadata is not JSON');
      }
      if (!Number.isSafeInteger(meta.reportBytes) || meta.reportBytes < 0)
        throw dumpInvalid('bad report length');
      reportLeft = meta.reportBytes;
      chunk = head.subarray(nl + 1);
    }
    if (reportLeft > 0) {
      const part = chunk.subarray(0, reportLeft);
      reportLeft -= part.length;
      await sink.report(part);
      chunk = chunk.subarray(part.length);
    }
    if (chunk.length > 0) await sink.heap(chunk);
  }
  if (!meta) throw dumpInvalid('truncated metadata');
  if (reportLeft > 0) throw dumpInvalid('truncated report');
  return meta;
}
