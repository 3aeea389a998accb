/**
 * The LUKS2 JSON metadata as it is on disk (LUKS2 On-Disk Format Specification §3): 64-bit
 * integers are decimal strings, small integers are JSON numbers. Objects are kept whole, so fields
 * written by other tools (priority, flags, requirements) survive our updates.
 */

export interface Luks2Segment {
  type: 'crypt';
  /** Byte offset of the payload in the file, a decimal string. */
  offset: string;
  /** Byte length of the payload, a decimal string, or "dynamic" (up to the end of the device). */
  size: string;
  /** Added to the 512-byte unit index to make the IV, a decimal string. */
  iv_tweak: string;
  encryption: string;
  sector_size: number;
  flags?: string[];
  [extra: string]: unknown;
}

export interface Luks2Area {
  type: 'raw';
  offset: string;
  size: string;
  encryption: string;
  key_size: number;
  [extra: string]: unknown;
}

export interface Luks2Af {
  type: 'luks1';
  stripes: number;
  hash: string;
  [extra: string]: unknown;
}

export interface Luks2Pbkdf2 {
  type: 'pbkdf2';
  hash: string;
  iterations: number;
  salt: string;
  [extra: string]: unknown;
}

export interface Luks2Argon2 {
  type: 'argon2i' | 'argon2id';
  time: number;
  memory: number;
  cpus: number;
  salt: string;
  [extra: string]: unknown;
}

export interface Luks2Keyslot {
  type: 'luks2';
  key_size: number;
  area: Luks2Area;
  af: Luks2Af;
  kdf: Luks2Pbkdf2 | Luks2Argon2;
  priority?: number;
  [extra: string]: unknown;
}

export interface Luks2Digest {
  type: 'pbkdf2';
  keyslots: string[];
  segments: string[];
  hash: string;
  iterations: number;
  salt: string;
  digest: string;
  [extra: string]: unknown;
}

export interface Luks2Token {
  type: string;
  keyslots: string[];
  [extra: string]: unknown;
}

export interface Luks2Config {
  json_size: string;
  keyslots_size: string;
  flags?: string[];
  requirements?: unknown;
  [extra: string]: unknown;
}

export interface Luks2Json {
  keyslots: Record<string, Luks2Keyslot>;
  tokens: Record<string, Luks2Token>;
  segments: Record<string, Luks2Segment>;
  digests: Record<string, Luks2Digest>;
  config: Luks2Config;
  [extra: string]: unknown;
}

/** A parsed, validated header: the binary header's fields plus the JSON metadata. */
export interface Luks2Header {
  /** Size of one metadata copy (binary header + JSON area). */
  readonly hdrSize: number;
  /** The sequence id of the copy this was read from (or will be written with, minus one). */
  readonly seqid: number;
  readonly uuid: string;
  readonly label: string;
  readonly subsystem: string;
  readonly checksumAlg: string;
  /** The salts of the primary and secondary copies (64 bytes each). */
  readonly salts: { readonly primary: Buffer; readonly secondary: Buffer };
  readonly json: Luks2Json;
}

/** A deep copy of the JSON metadata, for functional updates. */
export function cloneJson(json: Luks2Json): Luks2Json {
  return structuredClone(json);
}
