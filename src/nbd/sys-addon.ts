/**
 * The system calls the data path needs and Node does not offer, from the project's system-call
 * addon (native/sys.c, built by `npm install`):
 * - fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE): the range becomes a hole that reads as
 *   zeros; the file keeps its size. Failures reject with Node-style errors (`code` is the errno
 *   name: EOPNOTSUPP when the file system cannot punch holes).
 * - setsockopt(SO_SNDBUF) on an accepted NBD connection, so a whole READ reply (256 KiB from
 *   nbdcopy, up to 2 MiB from QEMU) fits in the socket at once: one write and one wake-up of the
 *   client per reply instead of several.
 * - a close-on-exec duplicate of an accepted connection's descriptor, which socket-requests.ts
 *   wraps in a net.Socket that reads into buffers of its choosing.
 * - a send(MSG_DONTWAIT) of a turn's replies on such a descriptor, past Node's stream machinery.
 * Without the addon, trim leaves data in place (NBD lets a server ignore trims), sockets keep the
 * kernel's default buffer, and replies go through Node's streams.
 */
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';

export type PunchHole = (fd: number, offset: number, length: number) => Promise<void>;

interface SysAddon {
  punchHole?: PunchHole;
  setSendBuffer?: (fd: number, bytes: number) => number;
  dupSocket?: (fd: number) => number;
  sendSome?: SendSome;
}

/** Sends buf[0, length) without blocking: the bytes the kernel took, 0 when the socket is full, or -errno. */
export type SendSome = (fd: number, buf: Buffer, length: number) => number;

/** dist/src/nbd/ → the repository root → native/build/Release. */
const ADDON_PATH = new URL('../../../native/build/Release/cryptvisor_sys.node', import.meta.url).pathname;

let loaded: SysAddon | null | undefined;

function addon(): SysAddon | null {
  if (loaded === undefined) {
    try {
      loaded = createRequire(import.meta.url)(ADDON_PATH) as SysAddon;
    } catch {
      loaded = null;
    }
  }
  return loaded;
}

/** The addon's punchHole, or null when the addon is not built (trim then leaves data in place). */
export function nativePunchHole(): PunchHole | null {
  const p = addon()?.punchHole;
  return typeof p === 'function' ? p : null;
}

/**
 * Raises a connected socket's send buffer to `bytes` (the kernel caps it at net.core.wmem_max);
 * returns the size the kernel reports, or null when the addon or the socket's descriptor is not
 * available.
 */
export function setSendBuffer(sock: Socket, bytes: number): number | null {
  const set = addon()?.setSendBuffer;
  const fd = socketFd(sock);
  if (typeof set !== 'function' || fd === null) return null;
  const got = set(fd, bytes);
  return got > 0 ? got : null;
}

/** A close-on-exec duplicate of a connected stream socket's descriptor, or null (no addon, not a socket). */
export function duplicateSocket(sock: Socket): number | null {
  const dup = addon()?.dupSocket;
  const fd = socketFd(sock);
  if (typeof dup !== 'function' || fd === null) return null;
  const copy = dup(fd);
  return copy >= 0 ? copy : null;
}

/** The addon's sendSome, or null when the addon is not built. */
export function nativeSendSome(): SendSome | null {
  const f = addon()?.sendSome;
  return typeof f === 'function' ? f : null;
}

/** A Socket's descriptor is libuv's (`_handle.fd`); Node has no public accessor. */
function socketFd(sock: Socket): number | null {
  const fd = (sock as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : null;
}
