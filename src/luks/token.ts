/**
 * The `cryptvisor` token (DESIGN.md §4): which key provider and KEK wrap this disk's DEK, and the
 * wrapped DEK itself. It opens no keyslot (keyslots: []), so cryptsetup lists it and leaves it
 * alone. The fields are null when the disk has no KEK (an offline `disk format` without one).
 */
import { LuksError } from './errors.js';
import { MAX_TOKENS } from './layout.js';
import { cloneJson } from './metadata.js';
import type { Luks2Header, Luks2Token } from './metadata.js';

export const CRYPTVISOR_TOKEN_TYPE = 'cryptvisor';

export interface CryptvisorToken {
  readonly keyProviderId: string | null;
  readonly keyId: string | null;
  /** The wrapped DEK as the key-wrap code encodes it (a string, e.g. base64), or null. */
  readonly wrappedKey: string | null;
}

const FIELDS = ['keyProviderId', 'keyId', 'wrappedKey'] as const;

function checkToken(t: Record<string, unknown>, where: string): CryptvisorToken {
  for (const f of FIELDS) {
    const v = t[f];
    if (v !== null && (typeof v !== 'string' || v.length === 0 || v.length > 4096)) {
      throw new LuksError('schema_invalid', `${where}.${f} must be null or a string of 1 to 4096 characters`);
    }
  }
  return {
    keyProviderId: t['keyProviderId'] as string | null,
    keyId: t['keyId'] as string | null,
    wrappedKey: t['wrappedKey'] as string | null,
  };
}

/** The token as JSON for the header. */
export function tokenJson(token: CryptvisorToken): Luks2Token {
  const t = checkToken({ ...token }, 'token');
  return {
    type: CRYPTVISOR_TOKEN_TYPE,
    keyslots: [],
    keyProviderId: t.keyProviderId,
    keyId: t.keyId,
    wrappedKey: t.wrappedKey,
  };
}

function findTokenId(header: Luks2Header): string | undefined {
  return Object.keys(header.json.tokens).find((id) => header.json.tokens[id]?.type === CRYPTVISOR_TOKEN_TYPE);
}

/** The header's cryptvisor token, or null when it has none. Malformed fields are schema_invalid. */
export function getToken(header: Luks2Header): CryptvisorToken | null {
  const id = findTokenId(header);
  if (id === undefined) return null;
  return checkToken(header.json.tokens[id] as Luks2Token, `token ${id}`);
}

/** A copy of header whose cryptvisor token is token (replacing the old one, else in the lowest free id). */
export function setToken(header: Luks2Header, token: CryptvisorToken): Luks2Header {
  const json = cloneJson(header.json);
  let id = findTokenId(header);
  if (id === undefined) {
    const free = Array.from({ length: MAX_TOKENS }, (_, i) => String(i)).find((i) => !(i in json.tokens));
    if (free === undefined) throw new LuksError('keyslots_full', 'the header has no free token id');
    id = free;
  }
  json.tokens[id] = tokenJson(token);
  return { ...header, json };
}
