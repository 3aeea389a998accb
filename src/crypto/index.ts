/**
 * src/crypto: key material (SecretBytes), the XTS engine, key wrap and sealed files.
 * See docs/crypto.md.
 */
export { CryptoError, CRYPTO_ERROR_CODES, type CryptoErrorCode } from './errors.js';
export { SecretBytes, withSecret } from './secret-bytes.js';
export { XtsKey, createXtsKey, type XtsCipherName } from './xts/xts-key.js';
export type { XtsEngine, XtsBatchOptions, XtsSectorSize, XtsFileIo, XtsFileTarget } from './xts/engine.js';
export { getXtsEngine, getFallbackXtsEngine, getNativeXtsEngine } from './xts/select.js';
export type { NativeEngineOptions } from './xts/native-engine.js';
export { wrapKey, unwrapKey, encodeKeyWrapContext, KEY_WRAP_VERSION, type KeyWrapContext } from './key-wrap.js';
export { createSealedWriter, type SealedWriter, type SealedWriterOptions } from './sealed-writer.js';
export { openSealedReader, readSealedFile, type SealedReader } from './sealed-reader.js';
export { SEALED_MAGIC, SEALED_VERSION, type SealedIdentity } from './sealed-format.js';
