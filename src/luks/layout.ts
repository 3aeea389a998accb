/**
 * Facts of the LUKS2 on-disk format (LUKS2 On-Disk Format Specification, version 1.1.x, §2-§3) and
 * cryptsetup's default layout, which DESIGN.md §4 adopts. Source of the default sizes: what
 * `cryptsetup luksFormat --type luks2` (2.6) writes: json_size "12288", keyslots_size "16744448",
 * data offset 16 MiB.
 */

/** Magic of the primary binary header: "LUKS" 0xBA 0xBE. */
export const MAGIC_PRIMARY: readonly number[] = Object.freeze([0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe]);
/** Magic of the secondary binary header: "SKUL" 0xBA 0xBE. */
export const MAGIC_SECONDARY: readonly number[] = Object.freeze([0x53, 0x4b, 0x55, 0x4c, 0xba, 0xbe]);

export const LUKS2_VERSION = 2;

/** Size of the binary header; the JSON area follows it up to hdr_size. */
export const BINARY_HEADER_SIZE = 4096;

/** The hdr_size values the specification allows (binary header + JSON area), 16 KiB to 4 MiB. */
export const VALID_HEADER_SIZES: readonly number[] = Object.freeze(
  [16, 32, 64, 128, 256, 512, 1024, 2048, 4096].map((k) => k * 1024),
);

/** Field offsets and lengths in the binary header (all integers big-endian). */
export const FIELD = Object.freeze({
  magic: { at: 0, len: 6 },
  version: { at: 6, len: 2 },
  hdrSize: { at: 8, len: 8 },
  seqid: { at: 16, len: 8 },
  label: { at: 24, len: 48 },
  checksumAlg: { at: 72, len: 32 },
  salt: { at: 104, len: 64 },
  uuid: { at: 168, len: 40 },
  subsystem: { at: 208, len: 48 },
  hdrOffset: { at: 256, len: 8 },
  checksum: { at: 448, len: 64 },
});

/** cryptsetup's default metadata size: 16 KiB per copy, primary at 0, secondary at 0x4000. */
export const DEFAULT_HEADER_SIZE = 0x4000;
/** cryptsetup's default data offset: 16 MiB. */
export const DEFAULT_DATA_OFFSET = 0x1000000;
/** The keyslots area fills the space between both metadata copies and the data: 0x8000 .. 16 MiB. */
export const DEFAULT_KEYSLOTS_SIZE = DEFAULT_DATA_OFFSET - 2 * DEFAULT_HEADER_SIZE;

/** Keyslot areas are allocated in 4096-byte units, as cryptsetup does. */
export const AREA_ALIGNMENT = 4096;
/** The keyslot area is always encrypted in 512-byte sectors, whatever the segment's sector size. */
export const AREA_SECTOR_SIZE = 512;

/** LUKS2 has at most 32 keyslots and 32 tokens (ids "0" .. "31"). */
export const MAX_KEYSLOTS = 32;
export const MAX_TOKENS = 32;

/** The disk format of DESIGN.md §4. */
export const VOLUME_KEY_SIZE = 64;
export const DEFAULT_CIPHER = 'aes-xts-plain64';
export const DEFAULT_SECTOR_SIZE = 4096;
export const SECTOR_SIZES: readonly number[] = Object.freeze([512, 1024, 2048, 4096]);

/** Anti-forensic splitter defaults (cryptsetup's): 4000 stripes, sha256. */
export const AF_STRIPES = 4000;
export const AF_HASH = 'sha256';

/** Salt lengths cryptsetup uses for the digest and pbkdf2 keyslots. */
export const KDF_SALT_SIZE = 32;

/** cryptsetup's limits: keyslots area at most 128 MiB, keys at most 512 bytes, 4000 AF stripes. */
export const MAX_KEYSLOTS_SIZE = 128 * 1024 * 1024;
export const MAX_KEY_SIZE = 512;
export const MAX_AF_STRIPES = 4000;
/** A digest is at most one hash output long (sha512: 64 bytes). */
export const MAX_DIGEST_SIZE = 64;

/** Nesting we accept in the JSON area; cryptsetup's own metadata is 4 levels deep. */
export const MAX_JSON_DEPTH = 32;
