/** src/nbd: block devices and the NBD server. */
export { NbdError, NBD_ERROR_CODES, errnoOf, type NbdErrorCode } from './errors.js';
export { checkRange, type BlockDevice, type WriteOptions, type ZeroOptions } from './block-device.js';
export { FileDevice, type FileDeviceOptions } from './file-device.js';
export { AlignedDevice } from './aligned-device.js';
export { RangeLock, type RangeLease } from './range-lock.js';
export { EncryptedDevice, type EncryptedDeviceOptions } from './encrypted-device.js';
export { NodeXtsCipher, SECTOR_SIZE, type SectorCipher, type SectorFileIo, type FileTarget } from './sector-cipher.js';
export { EngineXtsCipher } from './engine-cipher.js';
export { NbdServer, type NbdServerOptions, type NbdExportSpec, type NbdTlsConfig } from './server.js';
export { BLOCK_SIZES, transmissionFlags, type NbdExport } from './nbd-export.js';
