/**
 * The VMs registered on this host: their configuration on the datastore, their power and crypto
 * state, and the operations on them. KEKs come only from the KeyCache (pushed by center); DEKs
 * are unwrapped on demand and live only inside the open disk devices of a powered-on VM.
 */
import { randomUUID } from 'node:crypto';
import { chmod, copyFile, constants as fsConstants, mkdir, open, readFile, rm, stat, truncate } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { SecretBytes, unwrapKey, withSecret, wrapKey } from '../crypto/index.js';
import {
  decryptImage,
  encryptImage,
  formatImage,
  imageToken,
  openImage,
  pendingConversionHeader,
  pendingOldHeader,
  readImageHeader,
  rekeyImage,
  rewrapImage,
  unwrapDiskKey,
  type OpenedImage,
} from '../disk/index.js';
import type { Logger } from '../common/logging.js';
import { getToken } from '../luks/index.js';
import { FileDevice, NbdServer, type BlockDevice } from '../nbd/index.js';
import { AgentError } from './errors.js';
import type {
  Datastore} from './datastore.js';
import {
  CONFIG_FORMAT_VERSION,
  acquireLock,
  checkVmName,
  releaseLock,
  type DiskDescriptor,
  type PendingConversion,
  type SnapshotEntry,
  type VmConfig,
  type VmRuntimeSpec,
} from './datastore.js';
import type { KeyCache, KeyRef } from './keys.js';
import type { AgentState } from './state.js';
import { parseVmdkDescriptor } from './vmdk.js';
import { checkDiskSize, growExtent, nextDiskId } from './disks.js';
import { QemuVm } from './runtime/qemu.js';
import { SUSPEND_FILE, loadVmState, saveVmState, snapshotFile, snapshotIdentity, suspendIdentity } from './suspend.js';

export type PowerState = 'poweredOff' | 'poweredOn' | 'suspended';
export type CryptoState = 'unlocked' | 'locked';

/** The agent's view of a VM (center adds host and policy). */
export interface VmView {
  readonly name: string;
  readonly uuid: string;
  readonly path: string;
  readonly powerState: PowerState;
  readonly cryptoState: CryptoState;
  readonly encrypted: boolean;
  readonly keyProviderId: string | null;
  readonly keyId: string | null;
  readonly resumeOnUnlock: boolean;
  readonly pending: string | null;
  /** The conversion running now (encrypt, decrypt, rekey-deep): bytes done of total. */
  readonly operation: { readonly kind: string; readonly done: number; readonly total: number } | null;
  readonly disks: readonly {
    readonly id: string;
    readonly sizeBytes: number;
    readonly extentPath: string;
    readonly keyId: string | null;
    readonly nbdUri?: string;
  }[];
}

export interface EncryptionSpec {
  readonly keyProviderId: string;
  readonly keyId: string;
}

export interface CreateVmRequest {
  readonly name: string;
  readonly disks: readonly number[];
  readonly encryption: EncryptionSpec | null;
  readonly runtime?: Partial<VmRuntimeSpec>;
}

export interface ImportVmRequest {
  readonly name: string;
  readonly raw?: string;
  readonly vmdk?: string;
  readonly encryption: EncryptionSpec | null;
}

interface Runtime {
  readonly servers: NbdServer[];
  readonly images: OpenedImage[];
  readonly devices: BlockDevice[];
  readonly uris: Map<string, string>;
  readonly renew: NodeJS.Timeout;
  /** The QEMU process, when the VM asks for the QEMU runtime. */
  qemu?: QemuVm;
}

interface VmRecord {
  dir: string;
  config: VmConfig;
  powerState: PowerState;
  resumeOnUnlock: boolean;
  runtime: Runtime | undefined;
  /** The conversion running now, with its progress in bytes (GET /api/v1/vms/{name} shows it). */
  operation?: { kind: string; done: number; total: number } | undefined;
  /** Serializes operations on one VM. */
  queue: Promise<unknown>;
}

const NVRAM_BYTES = 128 * 1024;
const LEASE_MS = 30_000;
const DEFAULT_RUNTIME: VmRuntimeSpec = { memoryMiB: 256, cpus: 1, qemu: false };

function diskFiles(id: string): { descriptor: string; extent: string } {
  return { descriptor: `${id}.cvdisk`, extent: `${id}-flat.img` };
}

export interface VmManagerOptions {
  readonly hostId: string;
  readonly datastore: Datastore;
  readonly keys: KeyCache;
  readonly state: AgentState;
  /** A private directory (0700) for the NBD sockets; paths under 100 bytes. */
  readonly socketDir: string;
  readonly logger: Logger;
  /** After an unlock, resume VMs that were on (default) or leave them off. */
  readonly onUnlock?: 'resume' | 'stay-off';
  /** Bytes per journalled step of a conversion (default: src/disk's). */
  readonly conversionChunkBytes?: number;
}

export class VmManager {
  readonly #vms = new Map<string, VmRecord>();
  readonly #o: VmManagerOptions;

  constructor(opts: VmManagerOptions) {
    this.#o = opts;
  }

  /** Loads the registered VMs after a start: all off; encrypted ones locked until their KEK comes. */
  async load(): Promise<void> {
    for (const entry of this.#o.state.vms()) {
      try {
        const config = await this.#o.datastore.readConfig(entry.dir);
        this.#vms.set(config.name, {
          dir: entry.dir,
          config,
          powerState: config.suspendState ? 'suspended' : 'poweredOff',
          resumeOnUnlock: entry.wasOn,
          runtime: undefined,
          queue: Promise.resolve(),
        });
      } catch (err) {
        this.#o.logger.error({ dir: entry.dir, err: (err as Error).message }, 'a registered VM could not be loaded');
      }
    }
    // Plain VMs need no key: those that were on come back at once.
    for (const rec of this.#vms.values()) {
      if (!rec.config.encryption && rec.resumeOnUnlock && !rec.config.pending) await this.#resume(rec);
    }
  }

  #get(name: string): VmRecord {
    const rec = this.#vms.get(name);
    if (!rec) throw new AgentError('vm_not_found', `VM ${name} is not registered on this host`);
    return rec;
  }

  /** Runs fn after every earlier operation on the same VM. */
  #serial<T>(rec: VmRecord, fn: () => Promise<T>): Promise<T> {
    const run = rec.queue.then(fn, fn);
    rec.queue = run.catch(() => undefined);
    return run;
  }

  /** The KEKs a VM needs now: its own, and for a pending conversion the target's. */
  #neededKeys(rec: VmRecord): KeyRef[] {
    const out: KeyRef[] = [];
    for (const k of [rec.config.encryption, rec.config.pending?.target]) {
      if (k) out.push({ keyProviderId: k.keyProviderId, keyId: k.keyId });
    }
    return out;
  }

  #cryptoState(rec: VmRecord): CryptoState {
    return this.#neededKeys(rec).every((k) => this.#o.keys.has(k)) ? 'unlocked' : 'locked';
  }

  #assertUnlocked(rec: VmRecord): void {
    const missing = this.#neededKeys(rec).find((k) => !this.#o.keys.has(k));
    if (missing) {
      throw new AgentError(
        'vm_locked',
        `VM ${rec.config.name} is locked: key ${missing.keyId} of provider ${missing.keyProviderId} is not available on this host`,
      );
    }
  }

  #assertOff(rec: VmRecord, op: string): void {
    if (rec.powerState !== 'poweredOff') {
      throw new AgentError('vm_power_state', `${op} needs VM ${rec.config.name} powered off (it is ${rec.powerState})`);
    }
  }

  #assertNoPending(rec: VmRecord): void {
    if (rec.config.pending) {
      throw new AgentError('vm_power_state', `VM ${rec.config.name} has an unfinished ${rec.config.pending.op}; it resumes when the VM is unlocked`);
    }
  }

  async #view(rec: VmRecord): Promise<VmView> {
    const disks = [];
    for (const d of rec.config.disks) {
      const desc = await this.#o.datastore.readDescriptor(rec.dir, d.descriptor);
      const uri = rec.runtime?.uris.get(d.id);
      disks.push({
        id: d.id,
        sizeBytes: desc.sizeBytes,
        extentPath: join(rec.dir, desc.extent),
        keyId: desc.keyId,
        ...(uri ? { nbdUri: uri } : {}),
      });
    }
    const enc = rec.config.encryption;
    return {
      name: rec.config.name,
      uuid: rec.config.uuid,
      path: rec.dir,
      powerState: rec.powerState,
      cryptoState: this.#cryptoState(rec),
      encrypted: enc !== null,
      keyProviderId: enc?.keyProviderId ?? null,
      keyId: enc?.keyId ?? null,
      resumeOnUnlock: rec.resumeOnUnlock,
      pending: rec.config.pending?.op ?? null,
      operation: rec.operation ? { ...rec.operation } : null,
      disks,
    };
  }

  async list(): Promise<VmView[]> {
    return Promise.all([...this.#vms.values()].map((r) => this.#view(r)));
  }

  async show(name: string): Promise<VmView> {
    return this.#view(this.#get(name));
  }

  /**
   * Runs fn in the VM's queue, after and before every other operation on it: for changes made
   * outside this class (escrow keyslots) that must not interleave with a conversion's header writes.
   */
  async exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return this.#serial(this.#get(name), fn);
  }

  /** Every KEK the registered VMs need, for center after a restart. */
  neededKeys(): KeyRef[] {
    const seen = new Map<string, KeyRef>();
    for (const rec of this.#vms.values()) for (const k of this.#neededKeys(rec)) seen.set(`${k.keyProviderId}\0${k.keyId}`, k);
    return [...seen.values()];
  }

  /** The needed keys this host does not hold now: what center must push (each once). */
  missingKeys(): KeyRef[] {
    return this.neededKeys().filter((k) => !this.#o.keys.has(k));
  }

  async #saveConfig(rec: VmRecord, config: VmConfig): Promise<void> {
    await this.#o.datastore.writeConfig(rec.dir, config);
    rec.config = config;
  }

  async #persistState(): Promise<void> {
    await this.#o.state.save(
      [...this.#vms.values()].map((r) => ({ dir: r.dir, wasOn: r.powerState === 'poweredOn' || (r.powerState === 'poweredOff' && r.resumeOnUnlock) })),
    );
  }

  #wrapContext(uuid: string, slot: string, ref: KeyRef) {
    return { formatVersion: CONFIG_FORMAT_VERSION, vmUuid: uuid, slot, keyProviderId: ref.keyProviderId, keyId: ref.keyId };
  }

  // ---- create, import, register --------------------------------------------------------------

  async create(req: CreateVmRequest): Promise<VmView> {
    checkVmName(req.name);
    if (this.#vms.has(req.name)) throw new AgentError('vm_exists', `VM ${req.name} is already registered`);
    if (req.disks.length === 0 || req.disks.length > 16) throw new AgentError('invalid_request', 'a VM has 1 to 16 disks');
    for (const s of req.disks) {
      if (!Number.isSafeInteger(s) || s <= 0 || s % 4096 !== 0) throw new AgentError('invalid_request', 'disk sizes are positive multiples of 4096 bytes');
    }
    const kek = req.encryption ? this.#o.keys.get(req.encryption) : undefined;
    const dir = await this.#o.datastore.createVmDir(req.name);
    const uuid = randomUUID();
    try {
      const disks = [];
      for (let i = 0; i < req.disks.length; i++) {
        const id = `disk-${i}`;
        await this.#newDisk(dir, uuid, id, req.disks[i] as number, req.encryption);
        disks.push({ id, descriptor: diskFiles(id).descriptor });
      }
      await this.#newNvram(dir, uuid, req.encryption);
      const config: VmConfig = {
        formatVersion: CONFIG_FORMAT_VERSION,
        name: req.name,
        uuid,
        createdAt: new Date().toISOString(),
        registeredHost: this.#o.hostId,
        encryption:
          req.encryption && kek
            ? {
                ...req.encryption,
                keySafe: {
                  homeKey: await withSecret(SecretBytes.random(32), (home) =>
                    wrapKey(kek, home, this.#wrapContext(uuid, 'home', req.encryption as EncryptionSpec)),
                  ),
                },
              }
            : null,
        disks,
        nvram: 'nvram.img',
        runtime: { ...DEFAULT_RUNTIME, ...(req.runtime ?? {}) },
        suspendState: null,
        snapshots: [],
        pending: null,
      };
      await this.#o.datastore.writeConfig(dir, config);
      await this.#o.datastore.log(dir, `created on host ${this.#o.hostId}${req.encryption ? ` encrypted with key ${req.encryption.keyId}` : ' (plain)'}`);
      const rec: VmRecord = { dir, config, powerState: 'poweredOff', resumeOnUnlock: false, runtime: undefined, queue: Promise.resolve() };
      this.#vms.set(req.name, rec);
      await this.#persistState();
      return this.#view(rec);
    } catch (err) {
      await this.#o.datastore.removeVmDir(dir);
      throw err;
    }
  }

  async #newDisk(dir: string, vmUuid: string, id: string, sizeBytes: number, enc: EncryptionSpec | null): Promise<void> {
    const files = diskFiles(id);
    const extent = join(dir, files.extent);
    if (enc) {
      const kek = this.#o.keys.get(enc);
      await withSecret(SecretBytes.random(64), (dek) =>
        formatImage(extent, { sizeBytes, volumeKey: dek, binding: { kek, ...enc, vmUuid, diskId: id } }),
      );
    } else {
      const fh = await open(extent, 'wx', 0o600);
      await fh.truncate(sizeBytes);
      await fh.close();
    }
    const desc: DiskDescriptor = {
      formatVersion: CONFIG_FORMAT_VERSION,
      id,
      extent: files.extent,
      sizeBytes,
      format: enc ? 'luks2' : 'raw',
      keyProviderId: enc?.keyProviderId ?? null,
      keyId: enc?.keyId ?? null,
    };
    await this.#o.datastore.writeDescriptor(dir, files.descriptor, desc);
  }

  async #newNvram(dir: string, vmUuid: string, enc: EncryptionSpec | null): Promise<void> {
    const path = join(dir, 'nvram.img');
    if (enc) {
      const kek = this.#o.keys.get(enc);
      await withSecret(SecretBytes.random(64), (dek) =>
        formatImage(path, { sizeBytes: NVRAM_BYTES, volumeKey: dek, binding: { kek, ...enc, vmUuid, diskId: 'nvram' } }),
      );
    } else {
      const fh = await open(path, 'wx', 0o600);
      await fh.truncate(NVRAM_BYTES);
      await fh.close();
    }
  }

  /** Imports a VM from a raw disk image or a VMDK monolithicFlat descriptor (the source is copied, not moved). */
  async import(req: ImportVmRequest): Promise<VmView> {
    if ((req.raw === undefined) === (req.vmdk === undefined)) throw new AgentError('invalid_request', 'give exactly one of raw or vmdk');
    let source: string;
    let size: number;
    if (req.raw !== undefined) {
      source = req.raw;
      size = (await stat(source).catch(() => {
        throw new AgentError('invalid_request', `raw image ${source} cannot be read`);
      })).size;
    } else {
      const desc = parseVmdkDescriptor(await readFile(req.vmdk as string, 'utf8').catch(() => {
        throw new AgentError('invalid_request', `VMDK descriptor ${req.vmdk} cannot be read`);
      }));
      source = join(dirname(req.vmdk as string), desc.extentFile);
      size = desc.sizeBytes;
      const actual = (await stat(source)).size;
      if (actual < size) throw new AgentError('invalid_request', `VMDK extent ${source} is shorter than its descriptor says`);
    }
    if (size === 0 || size % 4096 !== 0) throw new AgentError('invalid_request', 'an imported disk must be a positive multiple of 4096 bytes');
    const view = await this.create({ name: req.name, disks: [4096], encryption: null });
    const rec = this.#get(req.name);
    const files = diskFiles('disk-0');
    const extent = join(rec.dir, files.extent);
    await copyFile(source, extent, fsConstants.COPYFILE_FICLONE);
    if ((await stat(extent)).size !== size) await truncate(extent, size);
    await this.#o.datastore.writeDescriptor(rec.dir, files.descriptor, {
      formatVersion: CONFIG_FORMAT_VERSION,
      id: 'disk-0',
      extent: files.extent,
      sizeBytes: size,
      format: 'raw',
      keyProviderId: null,
      keyId: null,
    });
    await this.#o.datastore.log(rec.dir, `imported from ${basename(source)}`);
    if (req.encryption) return this.encrypt(req.name, req.encryption);
    void view;
    return this.show(req.name);
  }

  /** Registers a VM folder on this host. */
  async register(path: string, opts: { force?: boolean } = {}): Promise<VmView> {
    const config = await this.#o.datastore.readConfig(path);
    if (this.#vms.has(config.name)) throw new AgentError('vm_exists', `VM ${config.name} is already registered`);
    if (config.registeredHost && config.registeredHost !== this.#o.hostId && !opts.force) {
      throw new AgentError('vm_registered_elsewhere', `VM ${config.name} is registered on host ${config.registeredHost}; unregister it there first`);
    }
    const rec: VmRecord = { dir: path, config, powerState: config.suspendState ? 'suspended' : 'poweredOff', resumeOnUnlock: false, runtime: undefined, queue: Promise.resolve() };
    await this.#saveConfig(rec, { ...config, registeredHost: this.#o.hostId });
    this.#vms.set(config.name, rec);
    await this.#persistState();
    await this.#o.datastore.log(path, `registered on host ${this.#o.hostId}`);
    return this.#view(rec);
  }

  async unregister(name: string): Promise<{ name: string; path: string }> {
    const rec = this.#get(name);
    return this.#serial(rec, async () => {
      if (rec.powerState === 'poweredOn') throw new AgentError('vm_power_state', `unregister needs VM ${name} powered off or suspended`);
      await this.#saveConfig(rec, { ...rec.config, registeredHost: null });
      this.#vms.delete(name);
      await this.#persistState();
      await this.#o.datastore.log(rec.dir, `unregistered from host ${this.#o.hostId}`);
      return { name, path: rec.dir };
    });
  }

  async delete(name: string): Promise<{ name: string }> {
    const rec = this.#get(name);
    return this.#serial(rec, async () => {
      this.#assertOff(rec, 'delete');
      this.#vms.delete(name);
      await this.#persistState();
      await this.#o.datastore.removeVmDir(rec.dir);
      return { name };
    });
  }

  // ---- power ---------------------------------------------------------------------------------

  async powerOn(name: string): Promise<VmView> {
    const rec = this.#get(name);
    return this.#serial(rec, async () => {
      if (rec.powerState === 'poweredOn') return this.#view(rec);
      this.#assertUnlocked(rec);
      this.#assertNoPending(rec);
      await this.#start(rec);
      await this.#persistState();
      return this.#view(rec);
    });
  }

  async #start(rec: VmRecord): Promise<void> {
    await acquireLock(rec.dir, this.#o.hostId, LEASE_MS);
    const images: OpenedImage[] = [];
    const devices: BlockDevice[] = [];
    const uris = new Map<string, string>();
    const servers: NbdServer[] = [];
    let qemu: QemuVm | undefined;
    try {
      const exports: { id: string; device: BlockDevice }[] = [];
      // All disks open at once: each DEK check (a PBKDF2 digest) takes its own pool thread.
      const disks = [...rec.config.disks, { id: 'nvram', descriptor: '' }];
      const opened = await Promise.allSettled(disks.map((d) => this.#openDisk(rec, d.id, d.descriptor, images)));
      for (const [i, r] of opened.entries()) {
        if (r.status === 'rejected') throw r.reason as Error;
        devices.push(r.value);
        exports.push({ id: disks[i]?.id ?? '', device: r.value });
      }
      const sockDir = join(this.#o.socketDir, rec.config.uuid.slice(0, 8));
      for (const e of exports) {
        const path = join(sockDir, `${e.id}.sock`);
        uris.set(e.id, `nbd+unix:///?socket=${path}`);
      }
      await this.#listen(servers, sockDir, exports);
      if (rec.config.runtime.qemu) qemu = await this.#startQemu(rec, sockDir, exports.map((e) => join(sockDir, `${e.id}.sock`)));
    } catch (err) {
      for (const s of servers) await s.close().catch(() => undefined);
      for (const img of images) await img.close().catch(() => undefined);
      await releaseLock(rec.dir, this.#o.hostId);
      throw err;
    }
    const renew = setInterval(() => {
      acquireLock(rec.dir, this.#o.hostId, LEASE_MS).catch((err: Error) =>
        this.#o.logger.error({ vm: rec.config.name, err: err.message }, 'lease renewal failed'),
      );
    }, LEASE_MS / 3);
    renew.unref();
    rec.runtime = { servers, images, devices, uris, renew, ...(qemu ? { qemu } : {}) };
    rec.powerState = 'poweredOn';
    rec.resumeOnUnlock = false;
    await this.#o.datastore.log(rec.dir, `powered on on host ${this.#o.hostId}`);
  }

  /** One NBD server per disk on its own socket, as the default export "" and under the disk's id. */
  async #listen(servers: NbdServer[], sockDir: string, exports: { id: string; device: BlockDevice }[]): Promise<void> {
    await mkdir(sockDir, { recursive: true, mode: 0o700 });
    await chmod(sockDir, 0o700);
    for (const e of exports) {
      const path = join(sockDir, `${e.id}.sock`);
      if (Buffer.byteLength(path) >= 100) throw new AgentError('datastore_invalid', `NBD socket path ${path} is 100 bytes or longer`);
      await rm(path, { force: true });
      const server = new NbdServer({
        exports: [
          { name: '', device: e.device },
          { name: e.id, device: e.device },
        ],
        logger: this.#o.logger,
      });
      servers.push(server);
      await server.listenUnix(path);
      await chmod(path, 0o600);
    }
  }

  /** Opens one disk (or the NVRAM) as a block device; an encrypted one's DEK is unwrapped here. */
  async #openDisk(rec: VmRecord, id: string, descriptor: string, images: OpenedImage[]): Promise<BlockDevice> {
    let extent: string;
    let format: 'luks2' | 'raw';
    if (id === 'nvram') {
      extent = join(rec.dir, rec.config.nvram);
      format = rec.config.encryption ? 'luks2' : 'raw';
    } else {
      const desc = await this.#o.datastore.readDescriptor(rec.dir, descriptor);
      extent = join(rec.dir, desc.extent);
      format = desc.format;
    }
    if (format === 'raw') return FileDevice.open(extent);
    const header = await readImageHeader(extent);
    const token = getToken(header);
    if (!token?.keyId || !token.keyProviderId) throw new AgentError('datastore_invalid', `disk ${id} of ${rec.config.name} has no wrapped DEK`);
    const kek = this.#o.keys.get({ keyProviderId: token.keyProviderId, keyId: token.keyId });
    // The DEK comes from an authenticated unwrap bound to this header and this disk: no digest run.
    const opened = await withSecret(unwrapDiskKey(header, kek, { vmUuid: rec.config.uuid, diskId: id }), (dek) => openImage(extent, dek, { unwrappedFrom: header }));
    images.push(opened);
    return opened.device;
  }

  async powerOff(name: string): Promise<VmView> {
    const rec = this.#get(name);
    return this.#serial(rec, async () => {
      await this.#stop(rec);
      if (rec.powerState === 'poweredOn') rec.powerState = 'poweredOff';
      rec.resumeOnUnlock = false;
      await this.#persistState();
      await this.#o.datastore.log(rec.dir, 'powered off');
      return this.#view(rec);
    });
  }

  /** Closes the exports and the disks; the DEKs are zeroed with their ciphers. */
  async #stop(rec: VmRecord): Promise<void> {
    const rt = rec.runtime;
    if (!rt) return;
    clearInterval(rt.renew);
    if (rt.qemu) await rt.qemu.stop();
    for (const s of rt.servers) await s.close();
    for (const img of rt.images) await img.close().catch(() => undefined);
    for (const d of rt.devices) await d.close().catch(() => undefined);
    rec.runtime = undefined;
    await releaseLock(rec.dir, this.#o.hostId);
  }

  /** Suspend: the memory and device state sealed into suspend.cvss (docs/agent.md), then QEMU and the exports stop. */
  async suspend(name: string): Promise<VmView> {
    const rec = this.#get(name);
    return this.#serial(rec, async () => {
      const qemu = this.#runningQemu(rec, 'suspend');
      const bytes = await this.#withHomeKey(rec, (home) => saveVmState(qemu, join(rec.dir, SUSPEND_FILE), home, suspendIdentity(rec.config.uuid)));
      await this.#saveConfig(rec, { ...rec.config, suspendState: SUSPEND_FILE });
      await this.#stop(rec);
      rec.powerState = 'suspended';
      rec.resumeOnUnlock = false;
      await this.#persistState();
      await this.#o.datastore.log(rec.dir, `suspended (${bytes} bytes of state)`);
      return this.#view(rec);
    });
  }

  /** Snapshot: the state sealed like a suspend, the VM kept running; recorded in the configuration. */
  async snapshot(name: string): Promise<VmView & { snapshot: SnapshotEntry }> {
    const rec = this.#get(name);
    return this.#serial(rec, async () => {
      const qemu = this.#runningQemu(rec, 'snapshot');
      const id = randomUUID();
      const file = snapshotFile(id);
      await this.#withHomeKey(rec, (home) => saveVmState(qemu, join(rec.dir, file), home, snapshotIdentity(rec.config.uuid, id)));
      await qemu.execute('cont');
      const snapshot: SnapshotEntry = { id, file, createdAt: new Date().toISOString() };
      await this.#saveConfig(rec, { ...rec.config, snapshots: [...rec.config.snapshots, snapshot] });
      await this.#o.datastore.log(rec.dir, `snapshot ${id} taken`);
      return { ...(await this.#view(rec)), snapshot };
    });
  }

  #runningQemu(rec: VmRecord, op: string): QemuVm {
    const qemu = rec.runtime?.qemu;
    if (!rec.config.runtime.qemu) throw new AgentError('not_supported', `${op} needs the QEMU runtime; VM ${rec.config.name} has none (runtime.qemu is false)`);
    if (rec.powerState !== 'poweredOn' || !qemu?.running) throw new AgentError('vm_power_state', `${op} needs VM ${rec.config.name} running`);
    return qemu;
  }

  /** Runs fn with the VM's home DEK (null for a plain VM); the DEK is zeroed afterwards. */
  async #withHomeKey<T>(rec: VmRecord, fn: (home: SecretBytes | null) => Promise<T>): Promise<T> {
    const enc = rec.config.encryption;
    if (!enc) return fn(null);
    const kek = this.#o.keys.get({ keyProviderId: enc.keyProviderId, keyId: enc.keyId });
    return withSecret(unwrapKey(kek, enc.keySafe.homeKey, this.#wrapContext(rec.config.uuid, 'home', enc)), fn);
  }

  /** Starts QEMU on the exports; a suspended VM is resumed from its sealed state, which is then removed. */
  async #startQemu(rec: VmRecord, sockDir: string, drives: string[]): Promise<QemuVm> {
    const spec = rec.config.runtime;
    const incoming = rec.config.suspendState ? join(sockDir, 'incoming.sock') : undefined;
    if (incoming) await rm(incoming, { force: true });
    const qemu = await QemuVm.start({
      name: rec.config.name,
      spec,
      drives,
      sockDir,
      consoleLog: join(rec.dir, 'console.log'),
      ...(incoming ? { incoming } : {}),
    });
    try {
      if (incoming && rec.config.suspendState) {
        const state = join(rec.dir, rec.config.suspendState);
        await this.#withHomeKey(rec, (home) => loadVmState(qemu, incoming, state, home, suspendIdentity(rec.config.uuid)));
        await this.#saveConfig(rec, { ...rec.config, suspendState: null });
        await rm(state, { force: true });
        await this.#o.datastore.log(rec.dir, 'resumed from the suspend state');
      }
    } catch (err) {
      await qemu.stop().catch(() => undefined);
      throw err;
    }
    void qemu.exited.then((status) => this.#qemuExited(rec, qemu, status));
    return qemu;
  }

  /** The guest powered itself off (or QEMU died): the VM goes off, its exports close, its DEKs are zeroed. */
  #qemuExited(rec: VmRecord, qemu: QemuVm, status: number | null): void {
    void this.#serial(rec, async () => {
      if (rec.runtime?.qemu !== qemu) return; // stopped by the agent (power-off, suspend)
      await this.#stop(rec);
      rec.powerState = 'poweredOff';
      await this.#persistState();
      await this.#o.datastore.log(rec.dir, `QEMU exited (status ${status ?? 'unknown'}): powered off`);
    }).catch((err: Error) => this.#o.logger.error({ vm: rec.config.name, err: err.message }, 'closing a VM after QEMU exited failed'));
  }

  // ---- keys and unlock -----------------------------------------------------------------------

  /** Called when center pushes a KEK: VMs it unlocks resume what they were doing. */
  async keysChanged(): Promise<void> {
    for (const rec of this.#vms.values()) {
      if (this.#cryptoState(rec) !== 'unlocked') continue;
      if (rec.config.pending) {
        void this.#serial(rec, () => this.#runPending(rec)).catch((err: Error) =>
          this.#o.logger.error({ vm: rec.config.name, err: err.message }, 'resuming a conversion failed'),
        );
      }
      if (rec.resumeOnUnlock && rec.powerState !== 'poweredOn' && (this.#o.onUnlock ?? 'resume') === 'resume') {
        void this.#serial(rec, () => this.#resume(rec)).catch((err: Error) =>
          this.#o.logger.error({ vm: rec.config.name, err: err.message }, 'resume after unlock failed'),
        );
      }
    }
  }

  async #resume(rec: VmRecord): Promise<void> {
    if (rec.config.pending || rec.powerState === 'poweredOn') return;
    await this.#start(rec);
    await this.#persistState();
  }

  /** Drops a VM's keys from use: powers it off (shred) — the KEK itself is removed by the caller. */
  async forget(name: string): Promise<void> {
    const rec = this.#get(name);
    await this.#serial(rec, async () => {
      await this.#stop(rec);
      rec.powerState = 'poweredOff';
      rec.resumeOnUnlock = false;
      await this.#persistState();
    });
  }

  /** Waits for every queued operation (tests, shutdown). */
  async idle(): Promise<void> {
    await Promise.all([...this.#vms.values()].map((r) => r.queue));
  }

  async close(): Promise<void> {
    await this.idle();
    for (const rec of this.#vms.values()) await this.#stop(rec);
  }

  // ---- encryption changes ----------------------------------------------------------------------

  async encrypt(name: string, target: EncryptionSpec): Promise<VmView> {
    const rec = this.#get(name);
    return this.#serial(rec, async () => {
      // Asked again (center retrying or resuming a task): the same outcome, no second conversion.
      if (this.#isDone(rec, target)) return this.#view(rec);
      if (this.#resumable(rec, 'encrypt', target)) return this.#resumePending(rec);
      if (rec.config.encryption) throw new AgentError('invalid_request', `VM ${name} is already encrypted; use rekey`);
      this.#assertOff(rec, 'encrypt');
      this.#assertNoPending(rec);
      this.#o.keys.get(target);
      await this.#saveConfig(rec, { ...rec.config, pending: { op: 'encrypt', target } });
      await this.#runPending(rec);
      return this.#view(rec);
    });
  }

  /** The VM is already encrypted with target and nothing is pending: an encrypt or rekey to it is done. */
  #isDone(rec: VmRecord, target: EncryptionSpec): boolean {
    const enc = rec.config.encryption;
    return !rec.config.pending && !!enc && enc.keyId === target.keyId && enc.keyProviderId === target.keyProviderId;
  }

  /** The pending conversion is this one (same op, same target KEK): asking again resumes it. */
  #resumable(rec: VmRecord, op: PendingConversion['op'], target: EncryptionSpec | null): boolean {
    const p = rec.config.pending;
    if (!p || p.op !== op) return false;
    if (!target || !p.target) return !target && !p.target;
    return p.target.keyId === target.keyId && p.target.keyProviderId === target.keyProviderId;
  }

  async #resumePending(rec: VmRecord): Promise<VmView> {
    this.#assertUnlocked(rec);
    await this.#runPending(rec);
    return this.#view(rec);
  }

  async decrypt(name: string): Promise<VmView> {
    const rec = this.#get(name);
    return this.#serial(rec, async () => {
      if (!rec.config.encryption && !rec.config.pending) return this.#view(rec); // already plain
      if (this.#resumable(rec, 'decrypt', null)) return this.#resumePending(rec);
      if (!rec.config.encryption) throw new AgentError('invalid_request', `VM ${name} is not encrypted`);
      this.#assertOff(rec, 'decrypt');
      this.#assertNoPending(rec);
      this.#assertUnlocked(rec);
      await this.#saveConfig(rec, { ...rec.config, pending: { op: 'decrypt', target: null } });
      await this.#runPending(rec);
      return this.#view(rec);
    });
  }

  async rekeyDeep(name: string, target: EncryptionSpec): Promise<VmView> {
    const rec = this.#get(name);
    return this.#serial(rec, async () => {
      if (this.#isDone(rec, target)) return this.#view(rec);
      if (this.#resumable(rec, 'rekey-deep', target)) return this.#resumePending(rec);
      if (!rec.config.encryption) throw new AgentError('invalid_request', `VM ${name} is not encrypted`);
      this.#assertOff(rec, 'deep rekey');
      this.#assertNoPending(rec);
      this.#assertUnlocked(rec);
      if (rec.config.encryption.keyId === target.keyId && rec.config.encryption.keyProviderId === target.keyProviderId) {
        throw new AgentError('invalid_request', 'a deep rekey takes a new KEK');
      }
      this.#o.keys.get(target);
      await this.#saveConfig(rec, { ...rec.config, pending: { op: 'rekey-deep', target } });
      await this.#runPending(rec);
      return this.#view(rec);
    });
  }

  /**
   * Shallow rekey: every wrapped DEK (disks, NVRAM, the key safe's home DEK) is re-wrapped under the
   * new KEK; no data is rewritten, so it takes the same time whatever the disk sizes. Allowed while
   * the VM runs. Each disk's token names the KEK that wraps it, so a crash part-way leaves every
   * disk readable with one of the two KEKs, and running the rekey again completes it.
   */
  async rekeyShallow(name: string, target: EncryptionSpec): Promise<VmView> {
    const rec = this.#get(name);
    return this.#serial(rec, async () => {
      const enc = rec.config.encryption;
      if (!enc) throw new AgentError('invalid_request', `VM ${name} is not encrypted`);
      this.#assertNoPending(rec);
      const newKek = this.#o.keys.get(target);
      const uuid = rec.config.uuid;
      for (const d of [...rec.config.disks, { id: 'nvram', descriptor: '' }]) {
        const extent = d.id === 'nvram' ? join(rec.dir, rec.config.nvram) : join(rec.dir, (await this.#o.datastore.readDescriptor(rec.dir, d.descriptor)).extent);
        const token = await imageToken(extent);
        if (!token?.keyId || !token.keyProviderId) throw new AgentError('datastore_invalid', `disk ${d.id} has no wrapped DEK`);
        if (token.keyId === target.keyId && token.keyProviderId === target.keyProviderId) continue;
        const oldKek = this.#o.keys.get({ keyProviderId: token.keyProviderId, keyId: token.keyId });
        await rewrapImage(extent, oldKek, { kek: newKek, ...target, vmUuid: uuid, diskId: d.id }, { vmUuid: uuid, diskId: d.id });
        if (d.descriptor) {
          const desc = await this.#o.datastore.readDescriptor(rec.dir, d.descriptor);
          await this.#o.datastore.writeDescriptor(rec.dir, d.descriptor, { ...desc, ...target });
        }
      }
      const oldKek = this.#o.keys.get(enc);
      const home = unwrapKey(oldKek, enc.keySafe.homeKey, this.#wrapContext(uuid, 'home', enc));
      const homeKey = await withSecret(home, (h) => wrapKey(newKek, h, this.#wrapContext(uuid, 'home', target)));
      await this.#saveConfig(rec, { ...rec.config, encryption: { ...target, keySafe: { homeKey } } });
      await this.#o.datastore.log(rec.dir, `shallow rekey: now wrapped by key ${target.keyId}`);
      return this.#view(rec);
    });
  }

  // ---- disks (checks and extent changes in disks.ts) ----------------------------------------

  /** Adds a disk to a powered-off VM: a new DEK and LUKS2 extent when the VM is encrypted. */
  async addDisk(name: string, sizeBytes: number): Promise<VmView> {
    const rec = this.#get(name);
    return this.#serial(rec, async () => {
      this.#assertOff(rec, 'adding a disk');
      this.#assertNoPending(rec);
      this.#assertUnlocked(rec);
      const id = nextDiskId(rec.config.disks);
      const enc = rec.config.encryption;
      await this.#newDisk(rec.dir, rec.config.uuid, id, checkDiskSize(sizeBytes), enc ? { keyProviderId: enc.keyProviderId, keyId: enc.keyId } : null);
      await this.#saveConfig(rec, { ...rec.config, disks: [...rec.config.disks, { id, descriptor: diskFiles(id).descriptor }] });
      await this.#o.datastore.log(rec.dir, `disk ${id} added (${sizeBytes} bytes)`);
      return this.#view(rec);
    });
  }

  /** Grows a disk of a powered-off VM to sizeBytes (its LUKS2 segment is dynamic: the extent grows). */
  async growDisk(name: string, id: string, sizeBytes: number): Promise<VmView> {
    const rec = this.#get(name);
    return this.#serial(rec, async () => {
      this.#assertOff(rec, 'growing a disk');
      this.#assertNoPending(rec);
      const d = rec.config.disks.find((x) => x.id === id);
      if (!d) throw new AgentError('invalid_request', `VM ${name} has no disk ${id}`);
      const desc = await this.#o.datastore.readDescriptor(rec.dir, d.descriptor);
      await growExtent(join(rec.dir, desc.extent), desc.format, desc.sizeBytes, checkDiskSize(sizeBytes));
      await this.#o.datastore.writeDescriptor(rec.dir, d.descriptor, { ...desc, sizeBytes });
      await this.#o.datastore.log(rec.dir, `disk ${id} grown from ${desc.sizeBytes} to ${sizeBytes} bytes`);
      return this.#view(rec);
    });
  }

  /** Runs (or resumes) the conversion recorded in the VM's configuration. */
  async #runPending(rec: VmRecord): Promise<void> {
    const p = rec.config.pending;
    if (!p) return;
    const log = (m: string) => this.#o.datastore.log(rec.dir, m);
    await log(`${p.op} started or resumed`);
    const extents: { id: string; path: string; descriptor: string }[] = [];
    for (const d of rec.config.disks) {
      const desc = await this.#o.datastore.readDescriptor(rec.dir, d.descriptor);
      extents.push({ id: d.id, path: join(rec.dir, desc.extent), descriptor: d.descriptor });
    }
    extents.push({ id: 'nvram', path: join(rec.dir, rec.config.nvram), descriptor: '' });
    const sizes = await Promise.all(extents.map(async (e) => (await stat(e.path)).size));
    const op = { kind: p.op, done: 0, total: sizes.reduce((a, b) => a + b, 0) };
    rec.operation = op;
    try {
      let base = 0;
      for (const [i, e] of extents.entries()) {
        const size = sizes[i] ?? 0;
        await this.#convertOne(rec, p, e, (done) => (op.done = base + Math.min(done, size)));
        base += size;
        op.done = base;
      }
    } finally {
      rec.operation = undefined;
    }
    const uuid = rec.config.uuid;
    let encryption = rec.config.encryption;
    if (p.op === 'encrypt' && p.target) {
      const kek = this.#o.keys.get(p.target);
      const homeKey = await withSecret(SecretBytes.random(32), (h) => wrapKey(kek, h, this.#wrapContext(uuid, 'home', p.target as KeyRef)));
      encryption = { ...p.target, keySafe: { homeKey } };
    } else if (p.op === 'decrypt') {
      encryption = null;
    } else if (p.op === 'rekey-deep' && p.target && encryption) {
      const oldKek = this.#o.keys.get(encryption);
      const newKek = this.#o.keys.get(p.target);
      const home = unwrapKey(oldKek, encryption.keySafe.homeKey, this.#wrapContext(uuid, 'home', encryption));
      const homeKey = await withSecret(home, (h) => wrapKey(newKek, h, this.#wrapContext(uuid, 'home', p.target as KeyRef)));
      encryption = { ...p.target, keySafe: { homeKey } };
    }
    await this.#saveConfig(rec, { ...rec.config, encryption, pending: null });
    await log(`${p.op} completed`);
  }

  /** Converts one extent; after a crash the disk's own state (journal, header) says where it is. */
  async #convertOne(
    rec: VmRecord,
    p: PendingConversion,
    e: { id: string; path: string; descriptor: string },
    onProgress: (done: number) => void,
  ): Promise<void> {
    const uuid = rec.config.uuid;
    const place = { vmUuid: uuid, diskId: e.id };
    const pending = await pendingConversionHeader(e.path);
    const setDescriptor = async (format: 'luks2' | 'raw', ref: KeyRef | null) => {
      if (!e.descriptor) return;
      const desc = await this.#o.datastore.readDescriptor(rec.dir, e.descriptor);
      await this.#o.datastore.writeDescriptor(rec.dir, e.descriptor, { ...desc, format, keyProviderId: ref?.keyProviderId ?? null, keyId: ref?.keyId ?? null });
    };
    const isLuks = async () => (await imageToken(e.path).catch(() => undefined)) !== undefined;
    const chunk = { ...(this.#o.conversionChunkBytes ? { chunkSize: this.#o.conversionChunkBytes } : {}), onProgress };
    if (p.op === 'encrypt' && p.target) {
      const kek = this.#o.keys.get(p.target);
      const binding = { kek, ...p.target, ...place };
      if (pending) {
        await withSecret(unwrapDiskKey(pending.header, kek, place), (dek) => encryptImage(e.path, dek, { binding, ...chunk }));
      } else if (!(await isLuks())) {
        await withSecret(SecretBytes.random(64), (dek) => encryptImage(e.path, dek, { binding, ...chunk }));
      }
      await setDescriptor('luks2', p.target);
    } else if (p.op === 'decrypt') {
      const header = pending?.header ?? (await isLuks() ? await readImageHeader(e.path) : undefined);
      if (header) {
        const token = getToken(header);
        if (!token?.keyId || !token.keyProviderId) throw new AgentError('datastore_invalid', `disk ${e.id} has no wrapped DEK`);
        const kek = this.#o.keys.get({ keyProviderId: token.keyProviderId, keyId: token.keyId });
        await withSecret(unwrapDiskKey(header, kek, place), (dek) => decryptImage(e.path, dek, chunk));
      }
      await setDescriptor('raw', null);
    } else if (p.op === 'rekey-deep' && p.target) {
      const newKek = this.#o.keys.get(p.target);
      const oldHeader = (await pendingOldHeader(e.path)) ?? (pending ? undefined : await readImageHeader(e.path));
      // The target KEK differs from the current one, so a token naming it means the disk is done.
      const done = !pending && oldHeader !== undefined && getToken(oldHeader)?.keyId === p.target.keyId;
      if (!done && oldHeader) {
        const t = getToken(oldHeader);
        if (!t?.keyId || !t.keyProviderId) throw new AgentError('datastore_invalid', `disk ${e.id} has no wrapped DEK`);
        const oldKek = this.#o.keys.get({ keyProviderId: t.keyProviderId, keyId: t.keyId });
        const binding = { kek: newKek, ...p.target, ...place };
        const newDek = pending ? unwrapDiskKey(pending.header, newKek, place) : SecretBytes.random(64);
        await withSecret(unwrapDiskKey(oldHeader, oldKek, place), (oldDek) =>
          withSecret(newDek, (nk) => rekeyImage(e.path, oldDek, nk, { binding, ...chunk })),
        );
      }
      await setDescriptor('luks2', p.target);
    }
  }
}
