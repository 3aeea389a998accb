/**
 * Escrow keyslots (DESIGN.md §3, §7): when a VM's policy has an escrow passphrase, center fetches
 * it from the key provider (KMIP Secret Data) and sends it here; each disk extent gets a LUKS2
 * keyslot (argon2id, cryptsetup-compatible) that opens its DEK with that passphrase, so the disk
 * can be recovered without the KEK (`cryptsetup open`). A `cryptvisor-escrow` token names the
 * keyslot and the escrow secret's ID (never the passphrase), so center can check compliance
 * without the secret. A cryptvisor disk has no keyslot but escrow ones (DESIGN §4), so setting
 * escrow replaces every keyslot, and clearing it (crypto-shred) wipes them all.
 *
 * Routes: GET|PUT|DELETE /api/v1/vms/{name}/escrow. The passphrase is zeroed after use.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { SecretBytes, withSecret } from '../crypto/index.js';
import { readImageHeader, unwrapDiskKey, assertNoConversion } from '../disk/index.js';
import {
  addPassphraseKeyslot,
  getToken,
  readLuks2Header,
  removeKeyslots,
  writeLuks2Header,
  type KeyslotKdf,
  type Luks2Header,
} from '../luks/index.js';
import type { ApiContext } from './api.js';
import { AgentError, decodeName } from './errors.js';

export const ESCROW_TOKEN_TYPE = 'cryptvisor-escrow';
const MAX_TOKENS = 32;
const ESCROW_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

export interface DiskEscrow {
  readonly id: string;
  /** The escrow secret's ID the disk's keyslot was made from, or null. */
  readonly escrowId: string | null;
  readonly keyslots: readonly string[];
}

function escrowTokenIds(h: Luks2Header): string[] {
  return Object.keys(h.json.tokens).filter((id) => h.json.tokens[id]?.type === ESCROW_TOKEN_TYPE);
}

function describe(id: string, h: Luks2Header): DiskEscrow {
  const tokenId = escrowTokenIds(h)[0];
  const t = tokenId === undefined ? undefined : h.json.tokens[tokenId];
  const escrowId = typeof t?.['escrowId'] === 'string' ? t['escrowId'] : null;
  return { id, escrowId, keyslots: Object.keys(h.json.keyslots).sort((a, b) => Number(a) - Number(b)) };
}

/** The header without escrow tokens and keyslots (keyslot areas wiped), as written. */
async function clear(fh: FileHandle, h: Luks2Header): Promise<Luks2Header> {
  const ids = escrowTokenIds(h);
  const slots = Object.keys(h.json.keyslots);
  if (ids.length === 0 && slots.length === 0) return h;
  const json = structuredClone(h.json);
  for (const id of ids) delete json.tokens[id];
  return removeKeyslots(fh, { ...h, json }, slots);
}

async function withExtent<T>(path: string, fn: (fh: FileHandle) => Promise<T>): Promise<T> {
  await assertNoConversion(path);
  const fh = await open(path, 'r+');
  try {
    return await fn(fh);
  } finally {
    await fh.close();
  }
}

interface EscrowVm {
  readonly uuid: string;
  readonly encrypted: boolean;
  readonly pending: string | null;
  readonly disks: readonly { readonly id: string; readonly extentPath: string }[];
}

async function encryptedVm(c: ApiContext, name: string): Promise<EscrowVm> {
  const vm = await c.vms.show(name);
  if (!vm.encrypted) throw new AgentError('invalid_request', `VM ${name} is not encrypted`);
  if (vm.pending) throw new AgentError('vm_power_state', `VM ${name} has an unfinished ${vm.pending}`);
  return vm;
}

export async function escrowStatus(c: ApiContext, name: string): Promise<{ disks: DiskEscrow[] }> {
  const vm = await c.vms.show(name);
  const disks: DiskEscrow[] = [];
  for (const d of vm.disks) {
    disks.push(vm.encrypted ? describe(d.id, await readImageHeader(d.extentPath)) : { id: d.id, escrowId: null, keyslots: [] });
  }
  return { disks };
}

/**
 * Gives every disk of the VM one escrow keyslot for `passphrase` (replacing older keyslots),
 * unless its escrow token already names `escrowId`. Takes ownership of `passphrase`.
 */
export async function setEscrow(
  c: ApiContext,
  name: string,
  escrowId: string,
  passphrase: SecretBytes,
  kdf: KeyslotKdf = { type: 'argon2id' },
): Promise<{ disks: DiskEscrow[] }> {
  return withSecret(passphrase, async (pass) => {
    const vm = await encryptedVm(c, name);
    const disks: DiskEscrow[] = [];
    for (const d of vm.disks) {
      disks.push(
        await withExtent(d.extentPath, async (fh) => {
          let h = await readLuks2Header(fh);
          const now = describe(d.id, h);
          if (now.escrowId === escrowId && now.keyslots.length > 0) return now;
          const t = getToken(h);
          if (!t?.keyProviderId || !t.keyId) throw new AgentError('datastore_invalid', `disk ${d.id} has no wrapped DEK`);
          const kek = c.keys.get({ keyProviderId: t.keyProviderId, keyId: t.keyId });
          const dek = unwrapDiskKey(h, kek, { vmUuid: vm.uuid, diskId: d.id });
          h = await withSecret(dek, async (k) => addPassphraseKeyslot(fh, await clear(fh, h), k, pass, { kdf }));
          const slot = Object.keys(h.json.keyslots)[0]!;
          const json = structuredClone(h.json);
          const free = [...Array(MAX_TOKENS).keys()].map(String).find((id) => !(id in json.tokens));
          if (free === undefined) throw new AgentError('datastore_invalid', `disk ${d.id} has no free LUKS2 token`);
          json.tokens[free] = { type: ESCROW_TOKEN_TYPE, keyslots: [slot], escrowId };
          return describe(d.id, await writeLuks2Header(fh, { ...h, json }));
        }),
      );
    }
    c.logger.info({ vm: name, escrowId, disks: disks.length }, 'escrow keyslots set');
    return { disks };
  });
}

/** Wipes every escrow keyslot of the VM's disks (crypto-shred, or a policy without escrow). */
export async function clearEscrow(c: ApiContext, name: string): Promise<{ disks: DiskEscrow[] }> {
  const vm = await encryptedVm(c, name);
  const disks: DiskEscrow[] = [];
  for (const d of vm.disks) {
    disks.push(await withExtent(d.extentPath, async (fh) => describe(d.id, await clear(fh, await readLuks2Header(fh)))));
  }
  c.logger.info({ vm: name, disks: disks.length }, 'escrow keyslots wiped');
  return { disks };
}

/** The escrow passphrase of a request: base64 of 1 to 512 bytes; the decoded buffer is owned by the result. */
function passphraseFrom(body: Record<string, unknown>): SecretBytes {
  const v = body['passphrase'];
  if (typeof v !== 'string' || v.length > 700 || !/^[A-Za-z0-9+/]+={0,2}$/.test(v))
    throw new AgentError('invalid_request', '"passphrase" must be base64');
  const buf = Buffer.from(v, 'base64');
  if (buf.length === 0 || buf.length > 512) {
    buf.fill(0);
    throw new AgentError('invalid_request', '"passphrase" must decode to 1 to 512 bytes');
  }
  return SecretBytes.from(buf, { zeroSource: true });
}

/** Optional argon2id costs of a request (center may ask for other costs than RFC 9106's). */
function kdfFrom(body: Record<string, unknown>): KeyslotKdf {
  const k = body['argon2id'];
  if (k === undefined || k === null) return { type: 'argon2id' };
  const o = k as Record<string, unknown>;
  const int = (n: string, lo: number, hi: number): number => {
    const v = o[n];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi)
      throw new AgentError('invalid_request', `"argon2id.${n}" must be an integer from ${lo} to ${hi}`);
    return v;
  };
  if (typeof k !== 'object' || Array.isArray(k)) throw new AgentError('invalid_request', '"argon2id" must be an object');
  return { type: 'argon2id', time: int('time', 1, 16), memory: int('memory', 8192, 1048576), parallelism: int('parallelism', 1, 8) };
}

type Handler = (ctx: ApiContext, params: string[], body: Record<string, unknown>) => Promise<unknown>;

const PATH = /^\/api\/v1\/vms\/([^/]+)\/escrow$/;

/** The agent routes of escrow (spread into the route table of api.ts). */
export const ESCROW_ROUTES: readonly { method: string; pattern: RegExp; handler: Handler }[] = [
  { method: 'GET', pattern: PATH, handler: async (c, [n]) => escrowStatus(c, decodeName(n)) },
  {
    method: 'PUT',
    pattern: PATH,
    handler: async (c, [n], body) => {
      const id = body['escrowId'];
      if (typeof id !== 'string' || !ESCROW_ID.test(id)) throw new AgentError('invalid_request', '"escrowId" must be a KMIP object ID');
      const kdf = kdfFrom(body);
      const name = decodeName(n);
      const passphrase = passphraseFrom(body);
      return c.vms.exclusive(name, () => setEscrow(c, name, id, passphrase, kdf)).finally(() => passphrase.dispose());
    },
  },
  {
    method: 'DELETE',
    pattern: PATH,
    handler: async (c, [n]) => {
      const name = decodeName(n);
      return c.vms.exclusive(name, () => clearEscrow(c, name));
    },
  },
];
