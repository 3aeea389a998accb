/** LUKS2 headers: create, read, check and update them (docs/luks.md). */
export { LuksError, LUKS_ERROR_CODES } from './errors.js';
export type { LuksErrorCode } from './errors.js';
export {
  DEFAULT_DATA_OFFSET,
  DEFAULT_HEADER_SIZE,
  DEFAULT_KEYSLOTS_SIZE,
  DEFAULT_CIPHER,
  DEFAULT_SECTOR_SIZE,
  VOLUME_KEY_SIZE,
} from './layout.js';
export type {
  Luks2Header,
  Luks2Json,
  Luks2Segment,
  Luks2Keyslot,
  Luks2Digest,
  Luks2Token,
  Luks2Config,
} from './metadata.js';
export type { LuksSource } from './source.js';
export { createLuks2Header, formatLuks2 } from './create-header.js';
export type { CreateOptions, CreatedHeader } from './create-header.js';
export { readLuks2Header, readLuks2HeaderReport } from './read-header.js';
export type { HeaderReport, CopyState } from './read-header.js';
export { writeLuks2Header, encodeHeader } from './write-header.js';
export type { WriteOptions } from './write-header.js';
export { verifyVolumeKey, isVolumeKey, DEFAULT_DIGEST_ITERATIONS } from './digest.js';
export { addPassphraseKeyslot, DEFAULT_KEYSLOT_ITERATIONS, DEFAULT_ARGON2ID } from './add-keyslot.js';
export type { AddKeyslotOptions, KeyslotKdf } from './add-keyslot.js';
export { openPassphraseKeyslot } from './open-keyslot.js';
export { removeKeyslots } from './remove-keyslots.js';
export { getToken, setToken, CRYPTVISOR_TOKEN_TYPE } from './token.js';
export type { CryptvisorToken } from './token.js';
export { segmentInfo, dataOffset, payloadSize } from './segment.js';
export type { SegmentInfo } from './segment.js';
