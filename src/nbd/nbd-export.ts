/**
 * An export as the server holds it: a name, an optional description, and a byte-granular device
 * (an AlignedDevice, shared by every connection to that device, so its write locks and its file
 * descriptor are shared too: that is what makes NBD multi-conn safe).
 */
import type { BlockDevice } from './block-device.js';
import type { RequestBuffers } from './request-buffers.js';
import type { RemoteDevice } from './transmission-pool.js';
import { BLOCK_SIZE_MIN, BLOCK_SIZE_PREFERRED, MAX_PAYLOAD, TFLAG } from './protocol.js';

export interface NbdExport {
  readonly name: string;
  readonly description: string;
  readonly device: BlockDevice;
  readonly readOnly: boolean;
  /**
   * READ reply and WRITE payload buffers, shared by every connection to the device (nbdcopy opens
   * four), so a new connection reuses warm buffers instead of faulting in fresh pages.
   */
  readonly buffers: RequestBuffers;
  /** The device as transmission workers serve it; plain-socket connections go to them. */
  readonly remote?: RemoteDevice;
}

/** The transmission flags of an export. */
export function transmissionFlags(exp: NbdExport): number {
  let flags = TFLAG.HAS_FLAGS | TFLAG.SEND_FLUSH | TFLAG.CAN_MULTI_CONN;
  if (exp.readOnly) flags |= TFLAG.READ_ONLY;
  else flags |= TFLAG.SEND_FUA | TFLAG.SEND_TRIM | TFLAG.SEND_WRITE_ZEROES;
  return flags;
}

/** The block-size constraints advertised with NBD_INFO_BLOCK_SIZE. */
export const BLOCK_SIZES = { minimum: BLOCK_SIZE_MIN, preferred: BLOCK_SIZE_PREFERRED, maximum: MAX_PAYLOAD } as const;
