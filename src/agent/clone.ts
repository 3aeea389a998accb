/**
 * Cloning a powered-off VM into a new folder of the same datastore (docs/center.md, "Migrate,
 * clone, shred"). The clone always has its own KEK (center creates it and pushes it first) and
 * its own UUID, so every wrapped key is bound to the new place:
 *
 * - shallow (default): each disk's DEK (and the NVRAM's) is unwrapped with the source's KEK and
 *   wrapped again under the clone's KEK and UUID; the ciphertext is copied as it is;
 * - new keys: each copied extent is re-encrypted in place under a new DEK with the journalled
 *   deep rekey of src/disk (two disks under one XTS key would leak which sectors are equal).
 *
 * The home DEK is always new: suspend state and snapshots are not copied. The source is only
 * read. The clone folder holds a marker until it is registered; a folder left with the marker by
 * a crash is removed and the clone made again, so a retried clone never leaves a half copy.
 */
import { randomUUID } from 'node:crypto';
import { constants as fsConstants, copyFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { SecretBytes, withSecret, wrapKey } from '../crypto/index.js';
import {
  KEK_BYTES,
  VOLUME_KEY_BYTES,
  imageToken,
  readImageHeader,
  rekeyImage,
  rewrapImage,
  unwrapDiskKey,
} from '../disk/index.js';
import type { ApiContext } from './api.js';
import { CONFIG_FORMAT_VERSION, Datastore, acquireLock, releaseLock, type VmConfig } from './datastore.js';
import { AgentError } from './errors.js';
import type { KeyRef } from './keys.js';
import type { VmView } from './vm-manager.js';

export interface CloneRequest {
  /** The clone's name (and folder). */
  readonly name: string;
  /** The clone's own KEK (already pushed to this host); null for a plain VM. */
  readonly target: KeyRef | null;
  /** New DEKs: every copied extent re-encrypted. */
  readonly newKeys: boolean;
}

const MARKER = '.clone-incomplete';
const LEASE_MS = 30_000;

/** Clones in flight by clone name: a repeated request (center retrying) joins the running one. */
const running = new Map<string, Promise<VmView>>();

export function cloneVm(c: ApiContext, source: string, req: CloneRequest): Promise<VmView> {
  const busy = running.get(req.name);
  if (busy) return busy;
  const run = cloneOnce(c, source, req).finally(() => running.delete(req.name));
  running.set(req.name, run);
  return run;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** The clone already registered here under the requested KEK (a retry after success), if any. */
async function finishedClone(c: ApiContext, req: CloneRequest): Promise<VmView | undefined> {
  const done = (await c.vms.list()).find((v) => v.name === req.name);
  if (!done) return undefined;
  if (done.keyId !== (req.target?.keyId ?? null))
    throw new AgentError('vm_exists', `VM ${req.name} is already registered`);
  return done;
}

async function cloneOnce(c: ApiContext, source: string, req: CloneRequest): Promise<VmView> {
  const finished = await finishedClone(c, req);
  if (finished) return finished;
  const src = await c.vms.show(source);
  if (src.powerState !== 'poweredOff')
    throw new AgentError('vm_power_state', `clone needs VM ${source} powered off (it is ${src.powerState})`);
  if (src.pending) throw new AgentError('vm_power_state', `VM ${source} has an unfinished ${src.pending}`);
  if (src.encrypted !== (req.target !== null)) {
    throw new AgentError(
      'invalid_request',
      src.encrypted
        ? 'the clone of an encrypted VM needs its own KEK'
        : `VM ${source} is plain: its clone is plain`,
    );
  }
  if (req.newKeys && !req.target) throw new AgentError('invalid_request', 'new keys are for an encrypted VM');
  // Copies of the KEKs: the cache's own may be dropped (migrate, shred) while the copy runs.
  const newKek = req.target ? c.keys.get(req.target).slice(0, KEK_BYTES) : undefined;
  try {
    return await cloneWith(c, source, src, req, newKek);
  } finally {
    newKek?.dispose();
  }
}

async function cloneWith(
  c: ApiContext,
  source: string,
  src: VmView,
  req: CloneRequest,
  newKek: SecretBytes | undefined,
): Promise<VmView> {
  const datastore = new Datastore(dirname(src.path));
  const config = await datastore.readConfig(src.path);
  const dir = datastore.vmDir(req.name);
  if (await exists(join(dir, MARKER))) await datastore.removeVmDir(dir);
  await datastore.createVmDir(req.name);
  await writeFile(join(dir, MARKER), `clone of ${source}\n`);
  await acquireLock(src.path, c.hostId, LEASE_MS);
  try {
    const uuid = randomUUID();
    const copy = async (id: string, file: string): Promise<void> => {
      const to = join(dir, file);
      await copyFile(join(src.path, file), to, fsConstants.COPYFILE_FICLONE);
      if (req.target && newKek)
        await rebind(
          c,
          to,
          { vmUuid: config.uuid, diskId: id },
          { kek: newKek, ...req.target, vmUuid: uuid, diskId: id },
          req.newKeys,
        );
    };
    for (const d of config.disks) {
      const desc = await datastore.readDescriptor(src.path, d.descriptor);
      await copy(d.id, desc.extent);
      await datastore.writeDescriptor(dir, d.descriptor, {
        ...desc,
        keyProviderId: req.target?.keyProviderId ?? null,
        keyId: req.target?.keyId ?? null,
      });
    }
    await copy('nvram', config.nvram);
    const clone: VmConfig = {
      ...config,
      name: req.name,
      uuid,
      createdAt: new Date().toISOString(),
      registeredHost: null,
      encryption:
        req.target && newKek
          ? {
              ...req.target,
              keySafe: {
                homeKey: await withSecret(SecretBytes.random(32), (home) =>
                  wrapKey(newKek, home, {
                    formatVersion: CONFIG_FORMAT_VERSION,
                    vmUuid: uuid,
                    slot: 'home',
                    ...req.target!,
                  }),
                ),
              },
            }
          : null,
      suspendState: null,
      snapshots: [],
      pending: null,
    };
    await datastore.writeConfig(dir, clone);
    await datastore.log(
      dir,
      `cloned from ${source} (${config.uuid})${req.target ? ` under key ${req.target.keyId}${req.newKeys ? ' with new DEKs' : ''}` : ''}`,
    );
    await datastore.log(src.path, `cloned to ${req.name}`);
    await rm(join(dir, MARKER));
  } finally {
    await releaseLock(src.path, c.hostId);
  }
  return c.vms.register(dir);
}

/**
 * Binds a copied extent to the clone: its DEK re-wrapped under the clone's KEK and place, or (new
 * keys) the payload re-encrypted under a new DEK, journalled, which also drops copied keyslots.
 */
async function rebind(
  c: ApiContext,
  extent: string,
  from: { vmUuid: string; diskId: string },
  to: { kek: SecretBytes; keyProviderId: string; keyId: string; vmUuid: string; diskId: string },
  newKeys: boolean,
): Promise<void> {
  const token = await imageToken(extent);
  if (!token?.keyId || !token.keyProviderId)
    throw new AgentError('datastore_invalid', `disk ${from.diskId} has no wrapped DEK`);
  await withSecret(
    c.keys.get({ keyProviderId: token.keyProviderId, keyId: token.keyId }).slice(0, KEK_BYTES),
    async (oldKek) => {
      if (!newKeys) return rewrapImage(extent, oldKek, to, from);
      const header = await readImageHeader(extent);
      await withSecret(unwrapDiskKey(header, oldKek, from), (oldDek) =>
        withSecret(SecretBytes.random(VOLUME_KEY_BYTES), (newDek) =>
          rekeyImage(extent, oldDek, newDek, { binding: to }),
        ),
      );
    },
  );
}
