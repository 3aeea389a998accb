/**
 * A transmission worker's thread (transmission-pool.ts): it serves the connections the main
 * thread hands it, each on its duplicated socket descriptor, over devices it opens from their
 * descriptions. Requests run inline on this thread where they can (encrypted writes, and reads
 * the page cache holds); the rest go to the libuv pool as on the main thread.
 */
import { closeSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { pino, type Logger } from 'pino';
import type { BlockDevice } from './block-device.js';
import { READER_HIGH_WATER } from './handshake.js';
import type { NbdExport } from './nbd-export.js';
import { openPortableDevice } from './portable-device.js';
import { RequestBuffers } from './request-buffers.js';
import { SocketRequests } from './socket-requests.js';
import { Transmission } from './transmission.js';
import type { FromWorker, ToWorker } from './transmission-pool.js';
import { WorkLimit } from './work-limit.js';

/** Device requests running at once on this thread (the main thread's default, per worker). */
const ACTIVE_REQUESTS = 16;
/** Buffers each device's pool keeps in this thread (as NbdServer's). */
const POOLED_BUFFERS = 64;

interface Opened {
  readonly device: BlockDevice | null;
  /** Why the device could not be opened. */
  readonly error: string | null;
  readonly buffers: RequestBuffers;
}

const port = parentPort;
if (port === null) throw new Error('transmission-worker.js runs as a worker thread');

const devices = new Map<number, Opened>();
const conns = new Map<number, Transmission>();
const limit = new WorkLimit(ACTIVE_REQUESTS);

function post(m: FromWorker): void {
  port?.postMessage(m);
}

/** A logger whose records go to the main thread, to the connection's own logger there. */
function connLogger(conn: number, level: string): Logger {
  return pino({ level, base: null }, { write: (line: string) => post({ t: 'log', conn, line }) });
}

function open(id: number, m: Extract<ToWorker, { t: 'open' }>): void {
  let device: BlockDevice | null = null;
  let error: string | null = null;
  try {
    device = openPortableDevice(m.portable);
  } catch (err) {
    error = (err as Error).message;
  }
  devices.set(id, { device, error, buffers: new RequestBuffers({ maxKept: POOLED_BUFFERS }) });
}

function serve(m: Extract<ToWorker, { t: 'conn' }>): void {
  post({ t: 'started', conn: m.conn });
  const log = connLogger(m.conn, m.level);
  const d = devices.get(m.dev);
  if (d === undefined || d.device === null) {
    log.error({ err: d?.error ?? 'unknown device' }, 'cannot serve the export in a worker thread');
    closeSync(m.fd);
    post({ t: 'closed', conn: m.conn });
    return;
  }
  const rest = m.rest.map((r) => Buffer.from(r.buffer, r.byteOffset, r.byteLength));
  const source = new SocketRequests(m.fd, (n) => d.buffers.take(n), READER_HIGH_WATER, rest);
  const socket = source.socket;
  socket.on('error', (err: Error) => log.debug({ err: err.message }, 'socket error'));
  const exp: NbdExport = { name: m.name, description: '', device: d.device, readOnly: m.readOnly, buffers: d.buffers };
  const t = new Transmission(socket, source, exp, m.structured, log, limit);
  conns.set(m.conn, t);
  t.run()
    .then(
      () => socket.end(),
      (err: unknown) => {
        log.warn({ err: (err as Error).message }, 'closing the connection');
        socket.destroy();
      },
    )
    .finally(() => {
      conns.delete(m.conn);
      post({ t: 'closed', conn: m.conn });
    });
}

/** The main thread drops a device only once no connection uses it (its servers have closed). */
async function drop(id: number): Promise<void> {
  const d = devices.get(id);
  devices.delete(id);
  if (d !== undefined) {
    d.buffers.clear();
    // A borrowed descriptor: close() zeroes the key and closes nothing else.
    await d.device?.close().catch(() => undefined);
  }
  post({ t: 'dropped', dev: id });
}

port.on('message', (m: ToWorker) => {
  switch (m.t) {
    case 'open':
      open(m.dev, m);
      break;
    case 'conn':
      serve(m);
      break;
    case 'stop':
      conns.get(m.conn)?.stop();
      break;
    case 'drop':
      void drop(m.dev);
      break;
  }
});
