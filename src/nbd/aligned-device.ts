/**
 * Byte-granular access to a device with a larger block size (4096 for an encrypted device):
 * unaligned reads read the covering sectors, unaligned writes and zeroes read-modify-write the
 * edge sectors. Every write-like request locks its sector-aligned range first, so overlapping
 * in-flight writes (two read-modify-writes of one sector included) are serialized in arrival
 * order, while requests on disjoint sectors run in parallel. Reads take no lock: the NBD protocol
 * leaves a read that races an overlapping write undefined.
 */
import { checkRange, type BlockDevice, type WriteOptions, type ZeroOptions } from './block-device.js';
import { NbdError } from './errors.js';
import { RangeLock, type RangeLease } from './range-lock.js';
import { SharedRangeLock } from './shared-range-lock.js';

export interface AlignedDeviceOptions {
  /**
   * The write-lock table of the same device in another thread (shareLocks() there): overlapping
   * writes are then serialized across both threads.
   */
  readonly sharedLocks?: SharedArrayBuffer;
}

export class AlignedDevice implements BlockDevice {
  readonly blockSize = 1;
  readonly size: number;
  readonly inner: BlockDevice;
  private readonly align: number;
  private readonly lock = new RangeLock();
  private shared: SharedRangeLock | null;

  constructor(inner: BlockDevice, opts: AlignedDeviceOptions = {}) {
    const align = inner.blockSize;
    if (!Number.isSafeInteger(align) || align < 1 || (align & (align - 1)) !== 0) {
      throw new NbdError('config_invalid', `block size ${align} is not a power of two`);
    }
    if (inner.size % align !== 0) {
      throw new NbdError('config_invalid', `device size ${inner.size} is not a multiple of its block size ${align}`);
    }
    this.inner = inner;
    this.align = align;
    this.size = inner.size;
    this.shared = opts.sharedLocks === undefined ? null : SharedRangeLock.attach(opts.sharedLocks);
  }

  /**
   * The table of this device's write locks in shared memory, for the same device opened in other
   * threads (AlignedDeviceOptions.sharedLocks). From the first call on, every write here takes
   * its lock in the table too; call it before the device is in use.
   */
  shareLocks(): SharedArrayBuffer {
    this.shared ??= SharedRangeLock.create();
    return this.shared.buffer;
  }

  /** Locks the aligned range [s, e): in this thread in arrival order, then across threads. */
  private async lockRange(s: number, e: number): Promise<RangeLease> {
    const local = await this.lock.acquire(s, e);
    const shared = this.shared;
    if (shared === null) return local;
    try {
      const lease = await shared.acquire(s, e);
      return {
        release: (): void => {
          lease.release();
          local.release();
        },
      };
    } catch (err) {
      local.release();
      throw err;
    }
  }

  private down(n: number): number {
    return n - (n % this.align);
  }

  private up(n: number): number {
    const r = n % this.align;
    return r === 0 ? n : n + this.align - r;
  }

  async read(offset: number, length: number): Promise<Buffer> {
    checkRange(this.size, 1, offset, length);
    const s = this.down(offset);
    const e = this.up(offset + length);
    if (s === offset && e === offset + length) return this.inner.read(offset, length);
    const buf = await this.inner.read(s, e - s);
    return buf.subarray(offset - s, offset - s + length);
  }

  async readInto(offset: number, buf: Buffer): Promise<void> {
    checkRange(this.size, 1, offset, buf.length);
    const aligned = offset % this.align === 0 && buf.length % this.align === 0;
    if (aligned && this.inner.readInto) await this.inner.readInto(offset, buf);
    else (await this.read(offset, buf.length)).copy(buf);
  }

  async write(offset: number, data: Buffer, opts?: WriteOptions): Promise<void> {
    checkRange(this.size, 1, offset, data.length);
    const s = this.down(offset);
    const e = this.up(offset + data.length);
    const lease = await this.lockRange(s, e);
    try {
      if (s === offset && e === offset + data.length) await this.inner.write(offset, data, opts);
      else await this.merge(s, e, offset, data.length, data, opts);
    } finally {
      lease.release();
    }
  }

  /**
   * An aligned write done now (BlockDevice.writeNow) when the inner device can, no request in
   * this thread holds or awaits an overlapping range, and no other thread holds one; false
   * otherwise. Done at once, it takes no place in this thread's arrival order: nothing else runs
   * meanwhile. (Across threads no order is kept anyway: waiters there race for the table.)
   */
  writeNow(offset: number, data: Buffer, opts?: WriteOptions): boolean {
    const inner = this.inner;
    const end = offset + data.length;
    if (inner.writeNow === undefined || offset % this.align !== 0 || end % this.align !== 0) return false;
    checkRange(this.size, 1, offset, data.length);
    if (this.lock.overlaps(offset, end)) return false;
    const shared = this.shared;
    if (shared === null) return inner.writeNow(offset, data, opts);
    const entry = shared.tryAcquire(offset, end);
    if (entry < 0) return false;
    try {
      return inner.writeNow(offset, data, opts);
    } finally {
      shared.releaseEntry(entry);
    }
  }

  async writeZeroes(offset: number, length: number, opts?: ZeroOptions): Promise<void> {
    checkRange(this.size, 1, offset, length);
    const end = offset + length;
    const s = this.down(offset);
    const e = this.up(end);
    const lease = await this.lockRange(s, e);
    try {
      const a = this.up(offset);
      const b = this.down(end);
      if (a >= b) {
        // No whole sector inside: one read-modify-write of the (one or two) covering sectors.
        if (s === offset && e === end) return;
        await this.merge(s, e, offset, length, null, opts);
        return;
      }
      const parts: Promise<void>[] = [this.inner.writeZeroes(a, b - a, opts)];
      if (offset > s) parts.push(this.merge(s, a, offset, a - offset, null, opts));
      if (end < e) parts.push(this.merge(b, e, b, end - b, null, opts));
      await Promise.all(parts);
    } finally {
      lease.release();
    }
  }

  /** Trims the whole sectors inside the range; partial sectors are left alone (trim is a hint). */
  async trim(offset: number, length: number, opts?: WriteOptions): Promise<void> {
    checkRange(this.size, 1, offset, length);
    const a = this.up(offset);
    const b = this.down(offset + length);
    if (a >= b) return;
    const lease = await this.lockRange(a, b);
    try {
      await this.inner.trim(a, b - a, opts);
    } finally {
      lease.release();
    }
  }

  flush(): Promise<void> {
    return this.inner.flush();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /**
   * Read-modify-write of the aligned range [s, e) (caller holds its lock): the edge sectors that
   * the new bytes [offset, offset+length) cover only in part are read, the new bytes (or zeros
   * when `data` is null) are laid over them, and the whole range is written back.
   */
  private async merge(s: number, e: number, offset: number, length: number, data: Buffer | null, opts?: WriteOptions): Promise<void> {
    const buf = Buffer.allocUnsafe(e - s);
    const end = offset + length;
    const edges: Promise<void>[] = [];
    const headPartial = offset > s;
    if (headPartial) edges.push(this.readSectorInto(buf, s, s));
    const tail = e - this.align;
    if (end < e && !(headPartial && tail === s)) edges.push(this.readSectorInto(buf, s, tail));
    await Promise.all(edges);
    if (data === null) buf.fill(0, offset - s, end - s);
    else data.copy(buf, offset - s, 0, length);
    await this.inner.write(s, buf, opts);
  }

  private async readSectorInto(buf: Buffer, base: number, at: number): Promise<void> {
    const sector = await this.inner.read(at, this.align);
    sector.copy(buf, at - base);
  }
}
