/**
 * Key wrap: a DEK sealed under a KEK with AES-256-GCM, bound to its place by associated data
 * (DESIGN.md §3). The output is self-describing: version byte (1) || nonce (12) || ciphertext || tag
 * (16), base64 for JSON. A wrapped key moved to another disk, VM, provider or key ID fails to
 * unwrap, as does a wrong KEK or any changed byte, and every failure says the same thing.
 */
import { randomBytes } from 'node:crypto';
import { CryptoError, UNWRAP_FAILED_MESSAGE } from './errors.js';
import { GCM_NONCE_BYTES, GCM_TAG_BYTES, gcmOpen, gcmSeal } from './aes-gcm.js';
import { SecretBytes } from './secret-bytes.js';

/** The wrap format version (the first byte of a wrapped key). */
export const KEY_WRAP_VERSION = 1;

const AAD_LABEL = 'cryptvisor key wrap';
const MAX_FIELD = 1024;
const MAX_KEY = 1024;

/**
 * Where a wrapped key belongs. slot names the key's use within the VM: `disk:<diskId>`, `home`,
 * `nvram`, ... ; formatVersion is the version of the container that stores the wrapped key (the
 * LUKS2 token or the key safe), so a blob cannot be replayed into another format.
 */
export interface KeyWrapContext {
  readonly formatVersion: number;
  readonly vmUuid: string;
  readonly slot: string;
  readonly keyProviderId: string;
  readonly keyId: string;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n, 0);
  return b;
}

function field(name: string, value: string): Buffer {
  if (typeof value !== 'string' || value.length === 0) {
    throw new CryptoError('argument_invalid', `key wrap context: ${name} must be a non-empty string`);
  }
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > MAX_FIELD) throw new CryptoError('argument_invalid', `key wrap context: ${name} is too long`);
  return Buffer.concat([u32(bytes.length), bytes]);
}

/**
 * The canonical associated data: a label, the wrap version, then each field in a fixed order as
 * u32 big-endian length || UTF-8 bytes (formatVersion as a u32), so no two contexts encode alike.
 */
export function encodeKeyWrapContext(ctx: KeyWrapContext): Buffer {
  const v = ctx.formatVersion;
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw new CryptoError('argument_invalid', 'key wrap context: formatVersion must be an integer in [0, 2^32)');
  }
  return Buffer.concat([
    field('label', AAD_LABEL),
    Buffer.from([KEY_WRAP_VERSION]),
    u32(v),
    field('vmUuid', ctx.vmUuid),
    field('slot', ctx.slot),
    field('keyProviderId', ctx.keyProviderId),
    field('keyId', ctx.keyId),
  ]);
}

function checkKek(kek: SecretBytes): void {
  if (kek.length !== 32) throw new CryptoError('key_invalid', `a KEK must be 32 bytes (AES-256), not ${kek.length}`);
}

/** Wraps key under kek for the place ctx; returns base64. */
export function wrapKey(kek: SecretBytes, key: SecretBytes, ctx: KeyWrapContext): string {
  checkKek(kek);
  if (key.length === 0 || key.length > MAX_KEY) throw new CryptoError('length_invalid', 'a wrapped key must be 1 to 1024 bytes');
  const aad = encodeKeyWrapContext(ctx);
  const nonce = randomBytes(GCM_NONCE_BYTES);
  const sealed = kek.use((k) => key.use((plain) => gcmSeal(k, nonce, aad, plain)));
  return Buffer.concat([Buffer.from([KEY_WRAP_VERSION]), nonce, sealed]).toString('base64');
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Unwraps a key wrapped by wrapKey for the same place; any failure is CryptoError 'unwrap_failed'. */
export function unwrapKey(kek: SecretBytes, wrapped: string, ctx: KeyWrapContext): SecretBytes {
  checkKek(kek);
  const aad = encodeKeyWrapContext(ctx);
  // No cause is attached: every failure must look the same.
  const fail = (): CryptoError => new CryptoError('unwrap_failed', UNWRAP_FAILED_MESSAGE);
  if (typeof wrapped !== 'string' || wrapped.length > 4 * MAX_KEY || wrapped.length % 4 !== 0 || !BASE64.test(wrapped)) {
    throw fail();
  }
  const blob = Buffer.from(wrapped, 'base64');
  if (blob.length < 1 + GCM_NONCE_BYTES + GCM_TAG_BYTES + 1 || blob[0] !== KEY_WRAP_VERSION) throw fail();
  const nonce = blob.subarray(1, 1 + GCM_NONCE_BYTES);
  let plain: Buffer;
  try {
    plain = kek.use((k) => gcmOpen(k, nonce, aad, blob.subarray(1 + GCM_NONCE_BYTES)));
  } catch {
    throw fail();
  }
  return SecretBytes.from(plain, { zeroSource: true });
}
