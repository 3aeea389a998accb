/**
 * The transmission phase of one connection: requests are read in order and served concurrently,
 * and each reply is sent as soon as its request completes (replies may be out of order). Reading
 * stops while too many requests are in flight or the client is not reading its replies, so a
 * connection holds a bounded amount of memory. A write is acknowledged only after the device has
 * it, so no acknowledged write is lost when a client vanishes.
 */
import type { Duplex } from 'node:stream';
import type { Logger } from '../common/logging.js';
import type { WriteOptions } from './block-device.js';
import { errnoOf, NbdError } from './errors.js';
import type { NbdExport } from './nbd-export.js';
import type { NbdRequest, RequestSource } from './requests.js';
import { nativeSendSome, type SendSome } from './sys-addon.js';
import type { WorkLimit } from './work-limit.js';
import {
  CMD,
  CMD_FLAG,
  MAX_PAYLOAD,
  NBD_ERRNO,
  REPLY_FLAG_DONE,
  REPLY_TYPE,
  SIMPLE_REPLY_MAGIC,
  SIMPLE_REPLY_SIZE,
  STRUCTURED_HEADER_SIZE,
  STRUCTURED_REPLY_MAGIC,
} from './protocol.js';

/** Requests served at once on one connection. */
const MAX_IN_FLIGHT = 64;
/** Reply bytes queued on the socket before reading pauses. */
const WRITE_HIGH_WATER = 64 * 1024 * 1024;
/** Writes done at once (writeNow) in a row before the loop lets the thread's other connections in. */
const NOW_IN_A_ROW = 32;
const FUA: WriteOptions = { fua: true };
/** A pooled payload's buffer goes back to the pool after writeNow, so the device may encrypt it in place. */
const CONSUME: WriteOptions = { consume: true };
const FUA_CONSUME: WriteOptions = { fua: true, consume: true };
/** Bytes of data-less replies gathered in one turn before they are sent (sendReplies). */
const BATCH_SIZE = 4096;

/** Command flags each command accepts (FUA is valid on every command once SEND_FUA is advertised). */
const ALLOWED_FLAGS: Readonly<Record<number, number>> = {
  [CMD.READ]: CMD_FLAG.FUA,
  [CMD.WRITE]: CMD_FLAG.FUA,
  [CMD.FLUSH]: CMD_FLAG.FUA,
  [CMD.TRIM]: CMD_FLAG.FUA,
  [CMD.WRITE_ZEROES]: CMD_FLAG.FUA | CMD_FLAG.NO_HOLE,
};

export class Transmission {
  private readonly stream: Duplex;
  private readonly source: RequestSource;
  private readonly exp: NbdExport;
  private readonly structured: boolean;
  private readonly log: Logger;
  private readonly limit: WorkLimit;
  private inFlight = 0;
  private roomWaiter: (() => void) | null = null;
  private idleWaiter: (() => void) | null = null;
  private stopping = false;
  private corked = false;
  /** Writes done at once since the loop last waited (NOW_IN_A_ROW). */
  private nowInARow = 0;
  /** Whether an immediate will end this turn's replies (endTurn). */
  private turnQueued = false;
  /** Data-less replies of this turn, sent by sendSome on replyFd; null without them (see sendReplies). */
  private readonly sendSome: SendSome | null;
  private readonly replyFd: number;
  private batch: Buffer | null = null;
  private batched = 0;
  /** The request onArrival offered to writeNow, which declined it: the loop does not offer it again. */
  private declined: NbdRequest | null = null;

  private readonly onDrain = (): void => this.wakeReader();

  constructor(stream: Duplex, source: RequestSource, exp: NbdExport, structured: boolean, log: Logger, limit: WorkLimit) {
    this.stream = stream;
    this.limit = limit;
    this.source = source;
    this.exp = exp;
    this.structured = structured;
    this.log = log;
    // 'close' wakes a loop waiting for room, so a dead client never leaves it parked.
    stream.on('drain', this.onDrain);
    stream.on('close', this.onDrain);
    this.replyFd = source.replyFd ?? -1;
    this.sendSome = this.replyFd >= 0 ? nativeSendSome() : null;
    source.setArrivalHandler?.(this.onArrival);
  }

  /** Stops reading requests; run() then finishes the ones in flight and returns. */
  stop(): void {
    this.stopping = true;
    this.source.cancel();
    this.wakeReader();
  }

  /** Serves requests until NBD_CMD_DISC, a protocol violation, or the end of the connection. */
  async run(): Promise<void> {
    try {
      await this.loop();
    } catch (err) {
      // Our own stop() cancels the pending read: that is a clean end, and the replies still queued
      // must be flushed by end(), not dropped by destroy().
      if (!this.stopping) throw err;
    } finally {
      this.source.setArrivalHandler?.(null);
      await this.idle();
      // The replies of this turn go out before the caller ends the stream.
      this.endTurn();
      this.stream.off('drain', this.onDrain);
      this.stream.off('close', this.onDrain);
    }
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      if (this.stream.destroyed) return;
      if (this.inFlight >= MAX_IN_FLIGHT || this.stream.writableLength > WRITE_HIGH_WATER) {
        await new Promise<void>((resolve) => (this.roomWaiter = resolve));
        continue;
      }
      let req: NbdRequest | undefined;
      try {
        req = this.source.nextNow();
        if (req === undefined) {
          this.nowInARow = 0;
          req = await this.source.next();
        }
      } catch (err) {
        if (!(err instanceof NbdError && err.code === 'protocol')) throw err;
        this.log.warn('bad request magic; closing the connection');
        this.stream.destroy();
        return;
      }
      if (req.type === CMD.DISC) {
        this.log.debug('client disconnected (NBD_CMD_DISC)');
        return;
      }
      if (req.type === CMD.WRITE && req.data === null) {
        // Too large to accept: the source dropped the payload unbuffered.
        this.replyError(req, NBD_ERRNO.EOVERFLOW, `write of ${req.length} bytes exceeds the ${MAX_PAYLOAD}-byte maximum`);
        continue;
      }
      const retry = req !== this.declined;
      this.declined = null;
      if (req.type === CMD.WRITE && retry && this.writeNow(req)) {
        if (++this.nowInARow >= NOW_IN_A_ROW) {
          this.nowInARow = 0;
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        continue;
      }
      // A pooled payload goes back once the device has it (a device keeps no reference to written data).
      const release = req.pooled ? req.data : null;
      this.inFlight++;
      this.execute(req)
        .then(() => {
          if (release !== null) this.exp.buffers.give(release);
        })
        .then(this.onDone, this.onDone);
    }
  }

  /**
   * A request that arrived while the loop waits for one, offered by the source before the loop
   * gets it: a WRITE that writeNow does at once is served here, inside the socket's read
   * callback, which saves the loop's promise and resumption per request. Anything else, and every
   * NOW_IN_A_ROW-th write (so the loop yields to the thread's other connections), goes on to the
   * loop as before.
   */
  private readonly onArrival = (req: NbdRequest): boolean => {
    if (this.stopping || req.type !== CMD.WRITE || req.data === null || this.nowInARow >= NOW_IN_A_ROW) return false;
    if (this.stream.destroyed || this.stream.writableLength > WRITE_HIGH_WATER) return false;
    if (!this.writeNow(req)) {
      this.declined = req;
      return false;
    }
    this.nowInARow++;
    return true;
  };

  private readonly onDone = (): void => {
    this.inFlight--;
    this.wakeReader();
    if (this.inFlight === 0 && this.idleWaiter !== null) {
      const w = this.idleWaiter;
      this.idleWaiter = null;
      w();
    }
  };

  private wakeReader(): void {
    const w = this.roomWaiter;
    if (w !== null) {
      this.roomWaiter = null;
      w();
    }
  }

  private idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => (this.idleWaiter = resolve));
  }

  /**
   * A valid WRITE that the device does at once (BlockDevice.writeNow: an inline encrypted write
   * that nothing else has locked), answered at once. It holds no WorkLimit slot, since it holds
   * nothing across an await, and it costs none of execute()'s promises. Only while no request
   * waits for a slot: one that waits has not locked its range yet, and an overlapping write done
   * now would overtake it (AlignedDevice keeps arrival order from the lock on). False, with
   * nothing done, to take the asynchronous path.
   */
  private writeNow(req: NbdRequest): boolean {
    const dev = this.exp.device;
    if (dev.writeNow === undefined || this.limit.queued > 0 || this.validate(req) !== 0) return false;
    const data = req.data as Buffer;
    try {
      const fua = (req.flags & CMD_FLAG.FUA) !== 0;
      if (!dev.writeNow(req.offset, data, req.pooled ? (fua ? FUA_CONSUME : CONSUME) : fua ? FUA : undefined)) return false;
      this.replyOk(req);
    } catch (err) {
      this.replyFailed(req, err);
    }
    if (req.pooled) this.exp.buffers.give(data);
    return true;
  }

  /** The error to answer without touching the device, or 0 when the request is valid. */
  private validate(req: NbdRequest): number {
    const allowed = ALLOWED_FLAGS[req.type];
    if (allowed === undefined) return req.type === CMD.CACHE ? NBD_ERRNO.ENOTSUP : NBD_ERRNO.EINVAL;
    if ((req.flags & ~allowed) !== 0) return NBD_ERRNO.EINVAL;
    const writes = req.type !== CMD.READ && req.type !== CMD.FLUSH;
    if (writes && this.exp.readOnly) return NBD_ERRNO.EPERM;
    if (req.type === CMD.FLUSH) return req.offset === 0 && req.length === 0 ? 0 : NBD_ERRNO.EINVAL;
    if (req.length === 0) return NBD_ERRNO.EINVAL;
    if (req.type === CMD.READ && req.length > MAX_PAYLOAD) return NBD_ERRNO.EOVERFLOW;
    if (req.offset + req.length > this.exp.device.size) {
      return req.type === CMD.WRITE || req.type === CMD.WRITE_ZEROES ? NBD_ERRNO.ENOSPC : NBD_ERRNO.EINVAL;
    }
    return 0;
  }

  private async execute(req: NbdRequest): Promise<void> {
    const bad = this.validate(req);
    if (bad !== 0) {
      this.replyError(req, bad, 'invalid request');
      return;
    }
    const fua = (req.flags & CMD_FLAG.FUA) !== 0;
    try {
      if (req.type === CMD.READ && this.exp.device.readInto) {
        await this.readPooled(req);
        return;
      }
      const data = await this.limit.run(() => this.perform(req, fua));
      if (data !== null) this.replyData(req, data);
      else this.replyOk(req);
    } catch (err) {
      this.replyFailed(req, err);
    }
  }

  /** A request the device failed: logged, and answered with the error's NBD value. */
  private replyFailed(req: NbdRequest, err: unknown): void {
    this.log.error({ err: (err as Error).message, type: req.type, offset: req.offset, length: req.length }, 'request failed');
    this.replyError(req, errnoOf(err), 'request failed');
  }

  /**
   * A READ into a pooled buffer, which goes back to the pool once the socket has written it. The
   * buffer is taken once the request has its slot, so waiting requests hold no memory.
   */
  private async readPooled(req: NbdRequest): Promise<void> {
    const dev = this.exp.device;
    const pool = this.exp.buffers;
    const buf = await this.limit.run(async () => {
      const b = pool.take(req.length);
      try {
        await (dev.readInto as (offset: number, buf: Buffer) => Promise<void>).call(dev, req.offset, b);
      } catch (err) {
        pool.give(b);
        throw err;
      }
      return b;
    });
    this.replyData(req, buf, () => pool.give(buf));
  }

  /** Runs a valid request on the device; a READ's data, else null. */
  private async perform(req: NbdRequest, fua: boolean): Promise<Buffer | null> {
    const dev = this.exp.device;
    switch (req.type) {
      case CMD.READ:
        return dev.read(req.offset, req.length);
      case CMD.WRITE:
        await dev.write(req.offset, req.data as Buffer, { fua });
        break;
      case CMD.FLUSH:
        await dev.flush();
        break;
      case CMD.TRIM:
        await dev.trim(req.offset, req.length, { fua });
        break;
      case CMD.WRITE_ZEROES:
        await dev.writeZeroes(req.offset, req.length, { fua, noHole: (req.flags & CMD_FLAG.NO_HOLE) !== 0 });
        break;
    }
    return null;
  }

  private header(req: NbdRequest, size: number): Buffer {
    const b = Buffer.allocUnsafe(size);
    if (size === SIMPLE_REPLY_SIZE) putSimpleReply(b, 0, req);
    else {
      b.writeUInt32BE(STRUCTURED_REPLY_MAGIC, 0);
      b.writeUInt32BE(req.cookieHi, 8);
      b.writeUInt32BE(req.cookieLo, 12);
    }
    return b;
  }

  /**
   * Replies go out once per event-loop turn: an immediate, which runs after the turn's I/O
   * callbacks and before the thread waits for I/O again, ends the turn (endTurn). Replies without
   * data go into a batch that endTurn sends with one send(2) when the socket's descriptor is at
   * hand (SocketRequests); the others cork the stream, and endTurn uncorks it, so they leave in
   * one writev. Under nbdcopy a turn completes about one request per connection either way, but
   * ending it after the I/O callbacks rather than on the next tick costs the server about 7 %
   * fewer context switches per GiB written and nbdcopy about 30 % fewer involuntary ones
   * (BENCHMARKS.md).
   */
  private send(head: Buffer, data?: Buffer, written?: () => void): void {
    const s = this.stream;
    if (s.destroyed || !s.writable) return;
    if (data === undefined && this.sendSome !== null && head.length <= BATCH_SIZE) {
      const b = this.room(head.length);
      head.copy(b, this.batched);
      this.batched += head.length;
      return;
    }
    if (!this.corked) {
      this.corked = true;
      s.cork();
      this.queueTurnEnd();
    }
    s.write(head);
    // `written` runs once the socket no longer needs data (sent, or the socket failed).
    if (data !== undefined) s.write(data, written);
  }

  /** The batch, with room for `n` more bytes (sending what it holds first if needed), and this turn's end queued. */
  private room(n: number): Buffer {
    let b = this.batch;
    if (b === null) b = this.batch = Buffer.allocUnsafe(BATCH_SIZE);
    if (this.batched + n > b.length) this.sendReplies();
    this.queueTurnEnd();
    return b;
  }

  private queueTurnEnd(): void {
    if (this.turnQueued) return;
    this.turnQueued = true;
    setImmediate(this.endTurn);
  }

  /** Uncorks the stream and sends the batch: the replies of this turn leave together. */
  private readonly endTurn = (): void => {
    this.turnQueued = false;
    if (this.corked) {
      this.corked = false;
      this.stream.uncork();
    }
    this.sendReplies();
  };

  /**
   * Sends the batched data-less replies with one non-blocking send(2) on the socket's
   * descriptor, past Node's stream machinery (Writable, cork, WriteWrap), only while the stream
   * has nothing queued, so bytes never interleave with a reply the stream is still sending.
   * Whatever the kernel does not take (a full socket, an error) goes through the stream, in
   * order, as a copy, since the batch is reused. The stream is checked first: once it is
   * destroyed its descriptor is closed, and the number may already name another file.
   */
  private sendReplies(): void {
    const n = this.batched;
    if (n === 0) return;
    this.batched = 0;
    const s = this.stream;
    const b = this.batch as Buffer;
    if (s.destroyed || !s.writable) return;
    let sent = 0;
    if (s.writableLength === 0 && s.writableCorked === 0) sent = Math.max(0, (this.sendSome as SendSome)(this.replyFd, b, n));
    if (sent < n) s.write(Buffer.from(b.subarray(sent, n)));
  }

  private replyOk(req: NbdRequest): void {
    if (this.sendSome === null || this.stream.destroyed || !this.stream.writable) {
      this.send(this.header(req, SIMPLE_REPLY_SIZE));
      return;
    }
    putSimpleReply(this.room(SIMPLE_REPLY_SIZE), this.batched, req);
    this.batched += SIMPLE_REPLY_SIZE;
  }

  private replyData(req: NbdRequest, data: Buffer, written?: () => void): void {
    if (!this.structured) {
      this.send(this.header(req, SIMPLE_REPLY_SIZE), data, written);
      return;
    }
    const h = this.header(req, STRUCTURED_HEADER_SIZE + 8);
    h.writeUInt16BE(REPLY_FLAG_DONE, 4);
    h.writeUInt16BE(REPLY_TYPE.OFFSET_DATA, 6);
    h.writeUInt32BE(8 + data.length, 16);
    h.writeUIntBE(Math.floor(req.offset / 0x100000000), 20, 4);
    h.writeUInt32BE(req.offset % 0x100000000, 24);
    this.send(h, data, written);
  }

  /** Simple replies carry the error alone; structured ones an NBD_REPLY_TYPE_ERROR chunk with a message. */
  private replyError(req: NbdRequest, errno: number, message: string): void {
    if (!this.structured) {
      const h = this.header(req, SIMPLE_REPLY_SIZE);
      h.writeUInt32BE(errno, 4);
      this.send(h);
      return;
    }
    const msg = Buffer.from(message, 'utf8');
    const h = this.header(req, STRUCTURED_HEADER_SIZE + 6 + msg.length);
    h.writeUInt16BE(REPLY_FLAG_DONE, 4);
    h.writeUInt16BE(REPLY_TYPE.ERROR, 6);
    h.writeUInt32BE(6 + msg.length, 16);
    h.writeUInt32BE(errno, 20);
    h.writeUInt16BE(msg.length, 24);
    msg.copy(h, 26);
    this.send(h);
  }
}

/** A successful simple reply to `req` (magic, error 0, cookie) at `at` of `b`. */
function putSimpleReply(b: Buffer, at: number, req: NbdRequest): void {
  b.writeUInt32BE(SIMPLE_REPLY_MAGIC, at);
  b.writeUInt32BE(0, at + 4);
  b.writeUInt32BE(req.cookieHi, at + 8);
  b.writeUInt32BE(req.cookieLo, at + 12);
}
