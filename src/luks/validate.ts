/**
 * Validation of the JSON metadata against the LUKS2 schema (specification §3, and the checks
 * cryptsetup applies on load: references between objects, area placement, alignment). Anything
 * that would make a later read or write go astray is refused here with a specific code.
 */
import { LuksError } from './errors.js';
import {
  AREA_ALIGNMENT,
  BINARY_HEADER_SIZE,
  MAX_AF_STRIPES,
  MAX_DIGEST_SIZE,
  MAX_JSON_DEPTH,
  MAX_KEY_SIZE,
  MAX_KEYSLOTS_SIZE,
  MAX_KEYSLOTS,
  MAX_TOKENS,
  SECTOR_SIZES,
} from './layout.js';
import type { Luks2Header, Luks2Json } from './metadata.js';

type Obj = Record<string, unknown>;

function fail(message: string): never {
  throw new LuksError('schema_invalid', message);
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function obj(parent: Obj, key: string, where: string): Obj {
  const v = parent[key];
  if (!isObj(v)) fail(`${where}.${key} must be an object`);
  return v;
}

function str(parent: Obj, key: string, where: string): string {
  const v = parent[key];
  if (typeof v !== 'string') fail(`${where}.${key} must be a string`);
  return v;
}

function int(parent: Obj, key: string, where: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = parent[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    fail(`${where}.${key} must be an integer from ${min} to ${max}`);
  }
  return v;
}

/** A 64-bit integer stored as a decimal string; we accept values up to 2^53. */
export function u64(parent: Obj, key: string, where: string): number {
  const v = str(parent, key, where);
  if (!/^(0|[1-9][0-9]{0,15})$/.test(v) || !Number.isSafeInteger(Number(v))) {
    fail(`${where}.${key} must be a decimal integer string below 2^53`);
  }
  return Number(v);
}

function strArray(parent: Obj, key: string, where: string): string[] {
  const v = parent[key];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
    fail(`${where}.${key} must be an array of strings`);
  return v as string[];
}

function base64(parent: Obj, key: string, where: string): Buffer {
  const v = str(parent, key, where);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 !== 0) fail(`${where}.${key} must be base64`);
  return Buffer.from(v, 'base64');
}

function ids(o: Obj, where: string, max: number): string[] {
  const keys = Object.keys(o);
  for (const k of keys) {
    if (!/^(0|[1-9][0-9]?)$/.test(k) || Number(k) >= max)
      fail(`${where} id "${k}" is not a number below ${max}`);
  }
  return keys;
}

/** Rejects nesting deeper than MAX_JSON_DEPTH without recursion (so hostile JSON cannot blow the stack). */
function checkDepth(root: unknown): void {
  const stack: [unknown, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (typeof v !== 'object' || v === null) continue;
    if (depth > MAX_JSON_DEPTH)
      throw new LuksError('json_too_large', `the JSON metadata is nested deeper than ${MAX_JSON_DEPTH}`);
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
}

/** Parses JSON text into an object, with json_invalid for anything that is not a JSON object. */
export function parseJsonText(text: string): unknown {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (cause) {
    throw new LuksError('json_invalid', 'the JSON area is not valid JSON', { cause });
  }
  if (!isObj(v)) throw new LuksError('json_invalid', 'the JSON area is not a JSON object');
  checkDepth(v);
  return v;
}

function checkSegment(s: Obj, where: string): { start: number; end: number | null } {
  const type = str(s, 'type', where);
  if (type !== 'crypt') {
    if (type === 'linear')
      throw new LuksError('not_supported', `${where} is a "linear" segment (reencryption in progress)`);
    fail(`${where} has unknown segment type "${type}"`);
  }
  const offset = u64(s, 'offset', where);
  const sizeText = str(s, 'size', where);
  u64(s, 'iv_tweak', where);
  str(s, 'encryption', where);
  const sectorSize = int(s, 'sector_size', where, 1);
  if (!SECTOR_SIZES.includes(sectorSize)) fail(`${where}.sector_size must be 512, 1024, 2048 or 4096`);
  if (offset % 512 !== 0) fail(`${where}.offset ${offset} is not aligned to 512 bytes`);
  let end: number | null = null;
  if (sizeText !== 'dynamic') {
    const size = u64(s, 'size', where);
    if (size % sectorSize !== 0)
      fail(`${where}.size ${size} is not a multiple of its sector size ${sectorSize}`);
    end = offset + size;
    if (!Number.isSafeInteger(end)) fail(`${where} ends beyond 2^53`);
  }
  if (s['flags'] !== undefined) strArray(s, 'flags', where);
  return { start: offset, end };
}

function checkKeyslot(k: Obj, where: string): { start: number; end: number } {
  const type = str(k, 'type', where);
  if (type !== 'luks2') {
    if (type === 'reencrypt') throw new LuksError('not_supported', `${where} is a reencryption keyslot`);
    fail(`${where} has unknown keyslot type "${type}"`);
  }
  const keySize = int(k, 'key_size', where, 1, MAX_KEY_SIZE);
  const area = obj(k, 'area', where);
  if (str(area, 'type', `${where}.area`) !== 'raw') fail(`${where}.area.type must be "raw"`);
  const start = u64(area, 'offset', `${where}.area`);
  const size = u64(area, 'size', `${where}.area`);
  str(area, 'encryption', `${where}.area`);
  int(area, 'key_size', `${where}.area`, 1, MAX_KEY_SIZE);
  if (start % 512 !== 0 || size % 512 !== 0 || size === 0)
    fail(`${where}.area is not aligned to 512-byte sectors`);
  const af = obj(k, 'af', where);
  if (str(af, 'type', `${where}.af`) !== 'luks1') fail(`${where}.af.type must be "luks1"`);
  const stripes = int(af, 'stripes', `${where}.af`, 1, MAX_AF_STRIPES);
  str(af, 'hash', `${where}.af`);
  if (keySize * stripes > size)
    fail(`${where}.area (${size} bytes) is smaller than its split key (${keySize * stripes} bytes)`);
  const kdf = obj(k, 'kdf', where);
  const kdfType = str(kdf, 'type', `${where}.kdf`);
  if (kdfType === 'pbkdf2') {
    str(kdf, 'hash', `${where}.kdf`);
    int(kdf, 'iterations', `${where}.kdf`, 1);
  } else if (kdfType === 'argon2i' || kdfType === 'argon2id') {
    int(kdf, 'time', `${where}.kdf`, 1);
    int(kdf, 'memory', `${where}.kdf`, 1);
    int(kdf, 'cpus', `${where}.kdf`, 1);
  } else {
    fail(`${where}.kdf has unknown type "${kdfType}"`);
  }
  base64(kdf, 'salt', `${where}.kdf`);
  if (k['priority'] !== undefined) int(k, 'priority', where);
  return { start, end: start + size };
}

/**
 * Checks JSON metadata read from (or about to be written to) a header of hdrSize bytes, and
 * returns it typed. Throws LuksError with schema_invalid, area_overlap, json_too_large or
 * not_supported.
 */
export function validateJson(v: unknown, hdrSize: number): Luks2Json {
  if (!isObj(v)) throw new LuksError('json_invalid', 'the JSON metadata is not an object');
  const keyslots = obj(v, 'keyslots', 'metadata');
  const tokens = obj(v, 'tokens', 'metadata');
  const segments = obj(v, 'segments', 'metadata');
  const digests = obj(v, 'digests', 'metadata');
  const config = obj(v, 'config', 'metadata');

  const jsonSize = u64(config, 'json_size', 'config');
  if (jsonSize !== hdrSize - BINARY_HEADER_SIZE) {
    throw new LuksError(
      'json_too_large',
      `config.json_size ${jsonSize} does not match the header's JSON area (${hdrSize - BINARY_HEADER_SIZE})`,
    );
  }
  const keyslotsSize = u64(config, 'keyslots_size', 'config');
  if (keyslotsSize % AREA_ALIGNMENT !== 0 || keyslotsSize > MAX_KEYSLOTS_SIZE) {
    fail(`config.keyslots_size ${keyslotsSize} is not a multiple of 4096 of at most 128 MiB`);
  }
  const areaStart = 2 * hdrSize;
  const areaEnd = areaStart + keyslotsSize;

  const segIds = ids(segments, 'segment', Number.MAX_SAFE_INTEGER);
  if (segIds.length === 0) fail('the metadata has no segment');
  let firstData = Infinity;
  for (const id of segIds) {
    const { start } = checkSegment(obj(segments, id, 'segments'), `segment ${id}`);
    firstData = Math.min(firstData, start);
  }
  // Offset 0 means a detached header: the data lives on another device (as in cryptsetup).
  if (firstData !== 0 && firstData < areaEnd) {
    throw new LuksError(
      'area_overlap',
      `the data (offset ${firstData}) overlaps the metadata and keyslots area (ending at ${areaEnd})`,
    );
  }

  const slotIds = ids(keyslots, 'keyslot', MAX_KEYSLOTS);
  const areas: { id: string; start: number; end: number }[] = [];
  for (const id of slotIds) {
    const a = checkKeyslot(obj(keyslots, id, 'keyslots'), `keyslot ${id}`);
    if (a.start < areaStart || a.end > areaEnd) {
      throw new LuksError(
        'area_overlap',
        `keyslot ${id}'s area [${a.start}, ${a.end}) lies outside the keyslots area [${areaStart}, ${areaEnd})`,
      );
    }
    for (const b of areas) {
      if (a.start < b.end && b.start < a.end)
        throw new LuksError('area_overlap', `the areas of keyslots ${b.id} and ${id} overlap`);
    }
    areas.push({ id, ...a });
  }

  for (const id of ids(tokens, 'token', MAX_TOKENS)) {
    const t = obj(tokens, id, 'tokens');
    str(t, 'type', `token ${id}`);
    for (const ks of strArray(t, 'keyslots', `token ${id}`)) {
      if (!(ks in keyslots)) fail(`token ${id} names keyslot ${ks}, which does not exist`);
    }
  }

  const digestIds = ids(digests, 'digest', MAX_KEYSLOTS);
  if (digestIds.length === 0) fail('the metadata has no digest');
  for (const id of digestIds) {
    const d = obj(digests, id, 'digests');
    const where = `digest ${id}`;
    if (str(d, 'type', where) !== 'pbkdf2') fail(`${where} has unknown type "${String(d['type'])}"`);
    for (const ks of strArray(d, 'keyslots', where))
      if (!(ks in keyslots)) fail(`${where} names keyslot ${ks}, which does not exist`);
    for (const sg of strArray(d, 'segments', where))
      if (!(sg in segments)) fail(`${where} names segment ${sg}, which does not exist`);
    str(d, 'hash', where);
    int(d, 'iterations', where, 1);
    base64(d, 'salt', where);
    const digestSize = base64(d, 'digest', where).length;
    if (digestSize === 0 || digestSize > MAX_DIGEST_SIZE)
      fail(`${where}.digest must be 1 to ${MAX_DIGEST_SIZE} bytes`);
  }
  if (config['flags'] !== undefined) strArray(config, 'flags', 'config');
  if (config['requirements'] !== undefined) {
    const req = config['requirements'];
    const mandatory = isObj(req) ? req['mandatory'] : undefined;
    if (Array.isArray(mandatory) && mandatory.length > 0) {
      throw new LuksError(
        'not_supported',
        `the header has mandatory requirements we do not handle: ${mandatory.map(String).join(', ')}`,
      );
    }
  }
  return v as Luks2Json;
}

/** Checks that every fixed-size segment and the data offset lie inside a file of fileSize bytes. */
export function checkBounds(header: Luks2Header, fileSize: number): void {
  for (const [id, s] of Object.entries(header.json.segments)) {
    const offset = Number(s.offset);
    const end = s.size === 'dynamic' ? offset : offset + Number(s.size);
    if (end > fileSize) {
      throw new LuksError(
        'segment_out_of_bounds',
        `segment ${id} ends at ${end}, past the end of the file (${fileSize} bytes)`,
      );
    }
  }
}
