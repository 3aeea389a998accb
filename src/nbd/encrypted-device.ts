/**
 * A block device that encrypts: 4096-byte sectors of AES-XTS over an inner device (the LUKS2
 * payload, a FileDevice range). Requests must be sector-aligned; an AlignedDevice on top makes
 * any byte range work. WRITE_ZEROES writes encrypted zeros, never a hole: a hole would read back
 * as the decryption of zeros, and would reveal which regions are unused.
 */
import { checkRange, type BlockDevice, type WriteOptions, type ZeroOptions } from './block-device.js';
import { NbdError } from './errors.js';
import { FileDevice } from './file-device.js';
import { SECTOR_SIZE, type SectorCipher, type SectorFileIo } from './sector-cipher.js';

export interface EncryptedDeviceOptions {
  /** The LUKS2 segment's iv_tweak, in 512-byte units (default 0). */
  readonly ivTweak?: bigint;
  /**
   * Run the fused jobs on the calling thread where possible: writes always, reads when the page
   * cache holds the whole range (else they go to the pool). For a transmission worker, a thread
   * of its own (transmission-worker.ts); on the main thread the pool is faster (BENCHMARKS.md).
   */
  readonly inline?: boolean;
}

/** Zeros encrypted per writeZeroes chunk. */
const ZERO_CHUNK_SIZE = 1024 * 1024;
const ZEROS = Buffer.alloc(ZERO_CHUNK_SIZE);

interface Fused {
  readonly file: FileDevice;
  readonly io: SectorFileIo;
}

export class EncryptedDevice implements BlockDevice {
  readonly blockSize = SECTOR_SIZE;
  readonly size: number;
  private readonly inner: BlockDevice;
  private readonly cipher: SectorCipher;
  private readonly ivTweak: bigint;
  private readonly inline: boolean;
  /** Over a FileDevice with a cipher that offers fused file I/O: one pool job per request. */
  private readonly fused: Fused | null;
  /** With inline fused jobs: whole sectors are encrypted and written on the calling thread. */
  private readonly now: { readonly file: FileDevice; readonly encryptWrite: NonNullable<Fused['io']['encryptWriteNow']> } | null;

  /** Takes ownership of `cipher` (disposed on close); `inner` is closed on close too. */
  constructor(inner: BlockDevice, cipher: SectorCipher, opts: EncryptedDeviceOptions = {}) {
    if (inner.size % SECTOR_SIZE !== 0) {
      throw new NbdError('config_invalid', `encrypted payload size ${inner.size} is not a multiple of ${SECTOR_SIZE}`);
    }
    if (SECTOR_SIZE % inner.blockSize !== 0) {
      throw new NbdError('config_invalid', `inner block size ${inner.blockSize} does not divide ${SECTOR_SIZE}`);
    }
    this.inner = inner;
    this.cipher = cipher;
    this.size = inner.size;
    this.ivTweak = opts.ivTweak ?? 0n;
    this.inline = opts.inline ?? false;
    this.fused = inner instanceof FileDevice && cipher.fileIo !== undefined ? { file: inner, io: cipher.fileIo } : null;
    const io = this.fused?.io;
    const encryptWrite = this.inline ? io?.encryptWriteNow?.bind(io) : undefined;
    this.now = this.fused !== null && encryptWrite !== undefined ? { file: this.fused.file, encryptWrite } : null;
  }

  /**
   * The parts another thread needs to open this device again (portable-device.ts): the file, the
   * cipher (whose key it copies) and the IV tweak. Null unless requests take the fused path and
   * the cipher can copy its key.
   */
  shareable(): { readonly file: FileDevice; readonly cipher: SectorCipher; readonly ivTweak: bigint } | null {
    if (this.fused === null || this.cipher.copyKeyInto === undefined) return null;
    return { file: this.fused.file, cipher: this.cipher, ivTweak: this.ivTweak };
  }

  /** Whether requests take the fused path (pread + decrypt, encrypt + pwrite in one pool job). */
  get fusedIo(): boolean {
    return this.fused !== null;
  }

  private unit(offset: number): bigint {
    return this.ivTweak + BigInt(offset / 512);
  }

  async read(offset: number, length: number): Promise<Buffer> {
    checkRange(this.size, SECTOR_SIZE, offset, length);
    const f = this.fused;
    if (f !== null) {
      const out = Buffer.allocUnsafe(length);
      await this.readFused(f, offset, out);
      return out;
    }
    const buf = await this.inner.read(offset, length);
    await this.cipher.decrypt(buf, this.unit(offset));
    return buf;
  }

  async readInto(offset: number, buf: Buffer): Promise<void> {
    checkRange(this.size, SECTOR_SIZE, offset, buf.length);
    const f = this.fused;
    if (f !== null) {
      await this.readFused(f, offset, buf);
      return;
    }
    if (this.inner.readInto) await this.inner.readInto(offset, buf);
    else (await this.inner.read(offset, buf.length)).copy(buf);
    await this.cipher.decrypt(buf, this.unit(offset));
  }

  private async readFused(f: Fused, offset: number, buf: Buffer): Promise<void> {
    const at = f.file.target(offset, buf.length, false);
    if (this.inline && f.io.readDecryptNow?.(at, buf, this.unit(offset))) return;
    await f.io.readDecrypt(at, buf, this.unit(offset));
  }

  async write(offset: number, data: Buffer, opts?: WriteOptions): Promise<void> {
    checkRange(this.size, SECTOR_SIZE, offset, data.length);
    await this.put(offset, data, opts?.fua ?? false);
  }

  writeNow(offset: number, data: Buffer, opts?: WriteOptions): boolean {
    if (this.now === null) return false;
    checkRange(this.size, SECTOR_SIZE, offset, data.length);
    return this.putNow(offset, data, opts?.fua ?? false, opts?.consume ?? false);
  }

  /**
   * Encrypts and writes whole sectors now, on this thread; false (nothing done) without inline
   * jobs. With `consume`, data is encrypted in place (no copy into a ciphertext buffer).
   */
  private putNow(offset: number, data: Buffer, fua: boolean, consume = false): boolean {
    const n = this.now;
    if (n === null) return false;
    n.encryptWrite(n.file.target(offset, data.length, true), data, this.unit(offset), fua, consume);
    return true;
  }

  async writeZeroes(offset: number, length: number, opts?: ZeroOptions): Promise<void> {
    checkRange(this.size, SECTOR_SIZE, offset, length);
    for (let done = 0; done < length; ) {
      const n = Math.min(ZERO_CHUNK_SIZE, length - done);
      await this.put(offset + done, ZEROS.subarray(0, n), false);
      done += n;
      // Inline, the chunks run on this thread: let its other connections in between.
      if (this.inline && done < length) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (opts?.fua) await this.inner.flush();
  }

  /** Encrypts whole sectors and writes them: one fused pool job when possible, else cipher then inner write. */
  private async put(offset: number, data: Buffer, fua: boolean): Promise<void> {
    if (this.putNow(offset, data, fua)) return;
    const f = this.fused;
    if (f !== null) {
      await f.io.encryptWrite(f.file.target(offset, data.length, true), data, this.unit(offset), fua);
      return;
    }
    const out = Buffer.allocUnsafe(data.length);
    await this.cipher.encrypt(data, this.unit(offset), out);
    await this.inner.write(offset, out, { fua });
  }

  async trim(offset: number, length: number, opts?: WriteOptions): Promise<void> {
    checkRange(this.size, SECTOR_SIZE, offset, length);
    await this.inner.trim(offset, length, opts);
  }

  flush(): Promise<void> {
    return this.inner.flush();
  }

  async close(): Promise<void> {
    try {
      await this.inner.close();
    } finally {
      this.cipher.dispose?.();
    }
  }
}
