/** src/disk: cryptvisor's LUKS2 disk images and their crash-safe in-place conversions. */
export { DiskError, DISK_ERROR_CODES, type DiskErrorCode } from './errors.js';
export { readKeyFile, writeKeyFile, VOLUME_KEY_BYTES, KEK_BYTES } from './key-file.js';
export { diskCipher, sectorTransform } from './engine-cipher.js';
export {
  assertNoConversion,
  encryptInPlace,
  decryptInPlace,
  rekeyInPlace,
  journalPath,
  DEFAULT_CHUNK,
  type SectorTransform,
} from './convert.js';
export {
  formatImage,
  describeImage,
  readImageHeader,
  openImage,
  encryptImage,
  decryptImage,
  rekeyImage,
  unwrapDiskKey,
  rewrapImage,
  imageToken,
  pendingConversionHeader,
  pendingOldHeader,
  TOKEN_FORMAT_VERSION,
  type KekBinding,
  type ImageDescription,
  type OpenedImage,
  type FormatOptions,
  type ConvertOptions,
} from './image.js';
export {
  RecoveryError,
  RECOVERY_ERROR_CODES,
  parseKmsServers,
  recoverableToken,
  candidatePlaces,
  fetchKek,
  unwrapAtPlaces,
  recoverDiskKey,
  type RecoveryErrorCode,
  type KmsAccess,
  type DiskPlace,
  type RecoveredDisk,
} from './recover.js';
