/**
 * A block device over a regular file, or over a range of one (offset + size), such as the payload
 * of a LUKS2 image. Positional reads and writes on one descriptor shared by every connection, so a
 * flush (fdatasync) covers writes acknowledged on any of them (NBD multi-conn).
 */
import { close, fdatasync, fstat, open, read, write, constants } from 'node:fs';
import { checkRange, type BlockDevice, type WriteOptions, type ZeroOptions } from './block-device.js';
import { NbdError } from './errors.js';
import { nativePunchHole } from './sys-addon.js';
import type { FileTarget } from './sector-cipher.js';

export interface FileDeviceOptions {
  /** Where the device starts in the file (default 0). */
  readonly offset?: number;
  /** The device size (default: the file size minus `offset`). */
  readonly size?: number;
  readonly readOnly?: boolean;
}

/** Zeros written by writeZeroes, shared and never modified. */
const ZERO_CHUNK = Buffer.alloc(1024 * 1024);

function openFd(path: string, flags: number): Promise<number> {
  return new Promise((resolve, reject) => open(path, flags, (err, fd) => (err ? reject(err) : resolve(fd))));
}

function fstatSize(fd: number): Promise<number> {
  return new Promise((resolve, reject) => fstat(fd, (err, st) => (err ? reject(err) : resolve(st.size))));
}

function preadOnce(fd: number, buf: Buffer, at: number, len: number, pos: number): Promise<number> {
  return new Promise((resolve, reject) => read(fd, buf, at, len, pos, (err, n) => (err ? reject(err) : resolve(n))));
}

function pwriteOnce(fd: number, buf: Buffer, at: number, len: number, pos: number): Promise<number> {
  return new Promise((resolve, reject) => write(fd, buf, at, len, pos, (err, n) => (err ? reject(err) : resolve(n))));
}

function syncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

function closeFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => close(fd, (err) => (err ? reject(err) : resolve())));
}

/** A file range by descriptor, as a thread that shares the descriptor table reopens it (FileDevice.borrow). */
export interface PortableFile {
  readonly fd: number;
  /** Where the device starts in the file. */
  readonly base: number;
  readonly size: number;
  readonly readOnly: boolean;
}

export class FileDevice implements BlockDevice {
  readonly blockSize = 1;
  readonly size: number;
  readonly readOnly: boolean;
  private readonly base: number;
  private fd: number;
  /** Whether close() closes the descriptor (false for a borrowed one). */
  private readonly owned: boolean;

  private constructor(fd: number, base: number, size: number, readOnly: boolean, owned = true) {
    this.fd = fd;
    this.owned = owned;
    this.base = base;
    this.size = size;
    this.readOnly = readOnly;
  }

  /** Opens an existing file; the range must be inside the file unless `size` is given (a sparse tail reads as zeros). */
  static async open(path: string, opts: FileDeviceOptions = {}): Promise<FileDevice> {
    const readOnly = opts.readOnly ?? false;
    const base = opts.offset ?? 0;
    if (!Number.isSafeInteger(base) || base < 0) throw new NbdError('config_invalid', 'device offset must be a non-negative integer');
    const fd = await openFd(path, readOnly ? constants.O_RDONLY : constants.O_RDWR).catch((err: unknown) => {
      throw new NbdError('io', `cannot open ${path}`, { cause: err });
    });
    try {
      const fileSize = await fstatSize(fd);
      const size = opts.size ?? fileSize - base;
      if (!Number.isSafeInteger(size) || size < 0) {
        throw new NbdError('config_invalid', `device range starts past the end of ${path}`);
      }
      return new FileDevice(fd, base, size, readOnly);
    } catch (err) {
      await closeFd(fd).catch(() => undefined);
      throw err;
    }
  }

  /**
   * The same range over the same descriptor, for another thread of this process. The borrower
   * never closes the descriptor: the owner must outlive every use the borrower makes of it.
   */
  static borrow(p: PortableFile): FileDevice {
    return new FileDevice(p.fd, p.base, p.size, p.readOnly, false);
  }

  /** What FileDevice.borrow needs in another thread. */
  portable(): PortableFile {
    return { fd: this.liveFd(), base: this.base, size: this.size, readOnly: this.readOnly };
  }

  private liveFd(): number {
    if (this.fd < 0) throw new NbdError('closed', 'device is closed');
    return this.fd;
  }

  private writableFd(): number {
    const fd = this.liveFd();
    if (this.readOnly) throw new NbdError('read_only', 'device is read-only');
    return fd;
  }

  async read(offset: number, length: number): Promise<Buffer> {
    checkRange(this.size, 1, offset, length);
    const fd = this.liveFd();
    const buf = Buffer.allocUnsafe(length);
    await this.fill(fd, buf, 0, length, offset);
    return buf;
  }

  async readInto(offset: number, buf: Buffer): Promise<void> {
    checkRange(this.size, 1, offset, buf.length);
    await this.fill(this.liveFd(), buf, 0, buf.length, offset);
  }

  /** Fills buf[at, at+len) from device offset `offset`; bytes past the end of the file read as zeros. */
  private async fill(fd: number, buf: Buffer, at: number, len: number, offset: number): Promise<void> {
    let done = 0;
    while (done < len) {
      const n = await preadOnce(fd, buf, at + done, len - done, this.base + offset + done);
      if (n === 0) {
        buf.fill(0, at + done, at + len);
        return;
      }
      done += n;
    }
  }

  async write(offset: number, data: Buffer, opts?: WriteOptions): Promise<void> {
    checkRange(this.size, 1, offset, data.length);
    const fd = this.writableFd();
    await this.writeAll(fd, data, offset);
    if (opts?.fua) await syncFd(fd);
  }

  private async writeAll(fd: number, data: Buffer, offset: number): Promise<void> {
    let done = 0;
    while (done < data.length) {
      done += await pwriteOnce(fd, data, done, data.length - done, this.base + offset + done);
    }
  }

  async flush(): Promise<void> {
    await syncFd(this.liveFd());
  }

  /**
   * The descriptor and file position of device offset `offset`, for a job that does its own
   * pread/pwrite (EncryptedDevice's fused native path). Checks the range, and writability for a write.
   */
  target(offset: number, length: number, write: boolean): FileTarget {
    checkRange(this.size, 1, offset, length);
    return { fd: write ? this.writableFd() : this.liveFd(), position: this.base + offset };
  }

  /**
   * Punches a hole (fallocate PUNCH_HOLE | KEEP_SIZE through native/sys.c): the range then reads
   * as zeros and takes no space. Trim is advisory in NBD, so a file system that cannot punch holes
   * (EOPNOTSUPP), or a build without the addon, leaves the data as it is.
   */
  async trim(offset: number, length: number, opts?: WriteOptions): Promise<void> {
    checkRange(this.size, 1, offset, length);
    const fd = this.writableFd();
    const punch = nativePunchHole();
    if (punch !== null && length > 0) {
      await punch(fd, this.base + offset, length).catch((err: unknown) => {
        const code = (err as { code?: unknown } | null)?.code;
        if (code !== 'EOPNOTSUPP' && code !== 'ENOTSUP') throw err;
      });
    }
    if (opts?.fua) await syncFd(fd);
  }

  /** Writes real zeros, so the range never becomes a hole (NO_HOLE is always honoured). */
  async writeZeroes(offset: number, length: number, opts?: ZeroOptions): Promise<void> {
    checkRange(this.size, 1, offset, length);
    const fd = this.writableFd();
    for (let done = 0; done < length; ) {
      const n = Math.min(ZERO_CHUNK.length, length - done);
      await this.writeAll(fd, ZERO_CHUNK.subarray(0, n), offset + done);
      done += n;
    }
    if (opts?.fua) await syncFd(fd);
  }

  async close(): Promise<void> {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    if (!this.owned) return;
    try {
      if (!this.readOnly) await syncFd(fd);
    } finally {
      await closeFd(fd);
    }
  }
}
