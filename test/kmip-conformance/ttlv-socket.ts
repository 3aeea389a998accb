/**
 * A raw KMIP connection for tests and benchmarks: mutual TLS, one binary TTLV message out, one in.
 * Deliberately independent of src/kmip's client so that what goes on the wire is exactly the bytes
 * a test built (the vCenter sequence, fuzzing, the vector runner).
 */
import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';

/** The PEM material of one client identity and the CA that signed the server. */
export interface TlsIdentity {
  readonly ca: string | Buffer;
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
}

export class TtlvSocket {
  private buffered: Buffer = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  private failure: Error | undefined;
  private ended = false;
  /** The latest TLS session ticket the server sent: pass it as `session` to resume on a new connection. */
  tlsSession: Buffer | undefined;

  private constructor(readonly socket: TLSSocket) {
    socket.on('session', (s: Buffer) => {
      this.tlsSession = s;
    });
    socket.on('data', (chunk: Buffer) => {
      this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
      this.wake();
    });
    socket.on('error', (err) => {
      this.failure = err;
      this.wake();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
  }

  static async open(port: number, id: TlsIdentity, extra: Partial<ConnectionOptions> = {}, host = '127.0.0.1'): Promise<TtlvSocket> {
    return new Promise((resolve, reject) => {
      const socket = connect({
        host,
        port,
        ca: id.ca,
        cert: id.cert,
        key: id.key,
        servername: host === '127.0.0.1' ? 'localhost' : host,
        ...extra,
      });
      const onError = (err: Error): void => reject(err);
      socket.once('error', onError);
      socket.once('secureConnect', () => {
        socket.off('error', onError);
        socket.setNoDelay(true);
        resolve(new TtlvSocket(socket));
      });
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** True once the server closed the connection (or it failed). */
  get closed(): boolean {
    return this.ended || this.failure !== undefined;
  }

  send(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Reads exactly one TTLV message (8-byte header, then the length it gives). */
  async receive(timeoutMs = 10_000): Promise<Uint8Array> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.buffered.length >= 8) {
        const total = 8 + this.buffered.readUInt32BE(4);
        if (this.buffered.length >= total) {
          const msg = this.buffered.subarray(0, total);
          this.buffered = this.buffered.subarray(total);
          return new Uint8Array(msg);
        }
      }
      if (this.failure) throw this.failure;
      if (this.ended) throw new Error('connection closed by the server');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no complete response within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  async roundTrip(bytes: Uint8Array, timeoutMs?: number): Promise<Uint8Array> {
    this.send(bytes);
    return this.receive(timeoutMs);
  }

  /** Waits until the server closes the connection; false if it is still open after timeoutMs. */
  async waitClosed(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return true;
  }

  close(): void {
    this.socket.destroy();
  }
}
