/**
 * A device described for another thread of this process (a transmission worker), which opens it
 * again from the description: the same file range over the same descriptor (threads share the
 * descriptor table, and a flush on either covers both), the same XTS key and IV tweak, and the
 * same table of write locks in shared memory. Only a FileDevice, or an EncryptedDevice over one
 * with the native engine, can be described; any other device is served on the main thread.
 *
 * The key travels in a SharedArrayBuffer of its own, not in a message (a message is copied
 * through buffers nobody zeroes). The describing side zeroes it in dispose(), once no thread will
 * open the device again.
 */
import { SecretBytes, createXtsKey } from '../crypto/index.js';
import { AlignedDevice } from './aligned-device.js';
import type { BlockDevice } from './block-device.js';
import { EncryptedDevice } from './encrypted-device.js';
import { EngineXtsCipher } from './engine-cipher.js';
import { NbdError } from './errors.js';
import { FileDevice, type PortableFile } from './file-device.js';

export interface PortableDevice {
  readonly file: PortableFile;
  /** AlignedDevice.shareLocks() of the original. */
  readonly locks: SharedArrayBuffer;
  /** For an encrypted device: its raw XTS key and its IV tweak (in 512-byte units). */
  readonly crypt: { readonly key: SharedArrayBuffer; readonly ivTweak: bigint } | null;
}

/** A description, and the zeroing of its key copy. */
export interface DescribedDevice {
  readonly portable: PortableDevice;
  /** Zeroes the key copy; the description then opens nothing. */
  dispose(): void;
}

/** Describes an AlignedDevice over a FileDevice or over a fused EncryptedDevice; null for any other. */
export function describeDevice(dev: AlignedDevice): DescribedDevice | null {
  const inner = dev.inner;
  if (inner instanceof FileDevice) {
    const portable = { file: inner.portable(), locks: dev.shareLocks(), crypt: null };
    return { portable, dispose: () => undefined };
  }
  if (!(inner instanceof EncryptedDevice)) return null;
  const parts = inner.shareable();
  const len = parts?.cipher.keyLength;
  if (parts === null || len === undefined || parts.cipher.copyKeyInto === undefined) return null;
  const key = new SharedArrayBuffer(len);
  parts.cipher.copyKeyInto(new Uint8Array(key));
  const portable = { file: parts.file.portable(), locks: dev.shareLocks(), crypt: { key, ivTweak: parts.ivTweak } };
  return { portable, dispose: () => new Uint8Array(key).fill(0) };
}

/**
 * Opens a described device in this thread. An encrypted one runs its jobs inline (this thread is
 * a worker's own); it borrows the descriptor, so closing it closes nothing but its key.
 */
export function openPortableDevice(p: PortableDevice): BlockDevice {
  const file = FileDevice.borrow(p.file);
  if (p.crypt === null) return new AlignedDevice(file, { sharedLocks: p.locks });
  const view = new Uint8Array(p.crypt.key);
  if (view.every((b) => b === 0)) throw new NbdError('closed', 'the device was closed before this thread opened it');
  const secret = SecretBytes.from(view);
  try {
    const cipher = new EngineXtsCipher(createXtsKey(secret, { allowAes128: view.length === 32 }));
    return new AlignedDevice(new EncryptedDevice(file, cipher, { ivTweak: p.crypt.ivTweak, inline: true }), { sharedLocks: p.locks });
  } finally {
    secret.dispose();
  }
}
