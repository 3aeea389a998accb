/**
 * The journal of an in-place conversion, kept beside the image as IMG.cvjournal.
 *
 * Layout: two 4 KiB record slots (A at 0, B at 4096), then a blob area. A record is
 * `CVJ1 | seq u64 | len u32 | sha256(json) | json`; a write goes to the slot the current record
 * is not in, so a torn record write leaves the previous record intact, and the valid record with
 * the highest seq wins. Blobs (header copies, the saved chunk of a rekey) are written before the
 * record that refers to them, and each record names their sha256, so a resume can tell a blob it
 * may trust. The journal never holds plaintext: only LUKS headers (no secrets in clear) and old
 * ciphertext.
 */
import { createHash } from 'node:crypto';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { DiskError } from './errors.js';

const MAGIC = Buffer.from('CVJ1');
const SLOT = 4096;
const RECORD_HEAD = 4 + 8 + 4 + 32;
export const BLOB_BASE = 2 * SLOT;

export interface JournalRecord {
  readonly op: 'encrypt' | 'decrypt' | 'rekey';
  readonly version: 1;
  readonly payloadSize: number;
  readonly dataOffset: number;
  readonly chunkSize: number;
  /** encrypt: chunks with index >= next are done (descending); decrypt and rekey: chunks < next are done. */
  readonly next: number;
  readonly phase: 'run' | 'finalize';
  /** Blobs: [offset in journal, length, sha256 hex]. */
  readonly blobs: Readonly<Record<string, readonly [number, number, string]>>;
  /** rekey: the old ciphertext of chunk `next` is saved in blob "chunk". */
  readonly saved?: boolean;
}

export function journalPath(image: string): string {
  return `${image}.cvjournal`;
}

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

export class Journal {
  private seq = 0n;

  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    private readonly durable: boolean,
    private current: JournalRecord | undefined,
  ) {}

  get record(): JournalRecord | undefined {
    return this.current;
  }

  /** Opens the journal of an image; `undefined` when the image has none (no conversion under way). */
  static async open(image: string, durable: boolean): Promise<Journal | undefined> {
    const path = journalPath(image);
    let fh: FileHandle;
    try {
      fh = await open(path, 'r+');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const j = new Journal(path, fh, durable, undefined);
    await j.load();
    return j;
  }

  /** Creates a fresh journal (replacing one that holds no valid record). */
  static async create(image: string, durable: boolean): Promise<Journal> {
    const path = journalPath(image);
    const fh = await open(path, 'w+', 0o600);
    return new Journal(path, fh, durable, undefined);
  }

  private async load(): Promise<void> {
    let best: { seq: bigint; rec: JournalRecord } | undefined;
    for (const at of [0, SLOT]) {
      const buf = Buffer.alloc(SLOT);
      const { bytesRead } = await this.fh.read(buf, 0, SLOT, at);
      if (bytesRead < RECORD_HEAD || !buf.subarray(0, 4).equals(MAGIC)) continue;
      const seq = buf.readBigUInt64LE(4);
      const len = buf.readUInt32LE(12);
      if (len > SLOT - RECORD_HEAD) continue;
      const json = buf.subarray(RECORD_HEAD, RECORD_HEAD + len);
      if (sha256(json) !== buf.subarray(16, 48).toString('hex')) continue;
      let rec: JournalRecord;
      try {
        rec = JSON.parse(json.toString('utf8')) as JournalRecord;
      } catch {
        continue;
      }
      if (!best || seq > best.seq) best = { seq, rec };
    }
    if (best) {
      this.seq = best.seq;
      this.current = best.rec;
    }
  }

  /** Writes a blob at the given journal offset and returns its descriptor for a record. */
  async writeBlob(offset: number, data: Uint8Array): Promise<readonly [number, number, string]> {
    await this.fh.write(data, 0, data.length, BLOB_BASE + offset);
    if (this.durable) await this.fh.datasync();
    return [offset, data.length, sha256(data)];
  }

  /** Reads a blob named in the current record, checking its hash. */
  async readBlob(name: string): Promise<Buffer> {
    const d = this.current?.blobs[name];
    if (!d) throw new DiskError('journal_corrupt', `conversion journal ${this.path} has no ${name} blob`);
    const buf = Buffer.alloc(d[1]);
    await this.fh.read(buf, 0, d[1], BLOB_BASE + d[0]);
    if (sha256(buf) !== d[2]) throw new DiskError('journal_corrupt', `conversion journal ${this.path}: ${name} blob is damaged`);
    return buf;
  }

  /** Commits a new record: after it returns, a crash resumes from this record. */
  async commit(rec: JournalRecord): Promise<void> {
    const json = Buffer.from(JSON.stringify(rec), 'utf8');
    if (json.length > SLOT - RECORD_HEAD) throw new DiskError('journal_corrupt', 'conversion journal record too large');
    this.seq += 1n;
    const buf = Buffer.alloc(SLOT);
    MAGIC.copy(buf, 0);
    buf.writeBigUInt64LE(this.seq, 4);
    buf.writeUInt32LE(json.length, 12);
    Buffer.from(sha256(json), 'hex').copy(buf, 16);
    json.copy(buf, RECORD_HEAD);
    await this.fh.write(buf, 0, SLOT, Number(this.seq % 2n) * SLOT);
    if (this.durable) await this.fh.datasync();
    this.current = rec;
  }

  async close(): Promise<void> {
    await this.fh.close();
  }

  /** Removes the journal: the conversion is complete. */
  async remove(): Promise<void> {
    await this.fh.close();
    await unlink(this.path);
  }
}
