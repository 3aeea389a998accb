/**
 * The datastore: one folder per VM (DESIGN.md §4), possibly shared by several hosts.
 *
 *   NAME/NAME.cvx            VM configuration, plaintext JSON: key provider, key ID, key safe
 *   NAME/disk-N.cvdisk       disk descriptors, plaintext JSON: extent, size, format, key ID
 *   NAME/disk-N-flat.img     disk extents: LUKS2 (encrypted) or raw (plain)
 *   NAME/NAME.nvram          NVRAM: a small LUKS2 volume (encrypted VMs) or raw
 *   NAME/*.cvss              sealed suspend and snapshot state
 *   NAME/cryptvisor.log      plaintext log, never key material
 *   NAME/.cryptvisor.lock    which host has the VM's disks open, with a lease
 *
 * Files are replaced atomically (write a temporary file, then rename).
 */
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, open, readFile, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { AgentError } from './errors.js';

export const CONFIG_FORMAT_VERSION = 1;

export interface KeySafe {
  /** The home DEK wrapped by the KEK (slot "home"). */
  readonly homeKey: string;
}

export interface VmEncryption {
  readonly keyProviderId: string;
  readonly keyId: string;
  readonly keySafe: KeySafe;
}

export interface VmRuntimeSpec {
  readonly memoryMiB: number;
  readonly cpus: number;
  /** Start QEMU on power-on (when qemu-system-x86_64 is installed). */
  readonly qemu: boolean;
  readonly kernel?: string;
  readonly initrd?: string;
  readonly append?: string;
}

export interface SnapshotEntry {
  readonly id: string;
  readonly file: string;
  readonly createdAt: string;
}

export interface VmConfig {
  readonly formatVersion: number;
  readonly name: string;
  readonly uuid: string;
  readonly createdAt: string;
  readonly registeredHost: string | null;
  readonly encryption: VmEncryption | null;
  readonly disks: readonly { readonly id: string; readonly descriptor: string }[];
  readonly nvram: string;
  readonly runtime: VmRuntimeSpec;
  readonly suspendState: string | null;
  readonly snapshots: readonly SnapshotEntry[];
  /** An in-place conversion under way (encrypt, decrypt, deep rekey), resumed after a restart. */
  readonly pending: PendingConversion | null;
}

export interface PendingConversion {
  readonly op: 'encrypt' | 'decrypt' | 'rekey-deep';
  /** The KEK the VM goes to (encrypt, deep rekey). */
  readonly target: { readonly keyProviderId: string; readonly keyId: string } | null;
}

export interface DiskDescriptor {
  readonly formatVersion: number;
  readonly id: string;
  readonly extent: string;
  readonly sizeBytes: number;
  readonly format: 'luks2' | 'raw';
  readonly keyProviderId: string | null;
  readonly keyId: string | null;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function checkVmName(name: string): void {
  if (!NAME_RE.test(name)) {
    throw new AgentError('invalid_request', `VM name "${name}" must be 1-64 of A-Z a-z 0-9 . _ - and start with a letter or digit`);
  }
}

export async function writeFileAtomic(path: string, data: string | Buffer, mode = 0o644): Promise<void> {
  const tmp = `${path}.tmp-${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, data, { mode });
  await rename(tmp, path);
}

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new AgentError('vm_not_found', `${what} ${path} does not exist`);
    throw err;
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new AgentError('datastore_invalid', `${what} ${path} is not valid JSON`, { cause: err });
  }
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class Datastore {
  constructor(readonly root: string) {}

  vmDir(name: string): string {
    checkVmName(name);
    return join(this.root, name);
  }

  configPath(dir: string): string {
    return join(dir, `${basename(dir)}.cvx`);
  }

  async exists(name: string): Promise<boolean> {
    try {
      await stat(this.vmDir(name));
      return true;
    } catch {
      return false;
    }
  }

  /** Makes a new VM folder; refuses an existing one. */
  async createVmDir(name: string): Promise<string> {
    const dir = this.vmDir(name);
    await mkdir(this.root, { recursive: true });
    try {
      await mkdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new AgentError('vm_exists', `the datastore already has a VM folder ${name}`);
      throw err;
    }
    return dir;
  }

  async removeVmDir(dir: string): Promise<void> {
    await rm(dir, { recursive: true, force: true });
  }

  async readConfig(dir: string): Promise<VmConfig> {
    const v = await readJson(this.configPath(dir), 'VM configuration');
    if (!isObj(v) || v['formatVersion'] !== CONFIG_FORMAT_VERSION || typeof v['name'] !== 'string' || typeof v['uuid'] !== 'string' || !Array.isArray(v['disks'])) {
      throw new AgentError('datastore_invalid', `VM configuration in ${dir} is not a cryptvisor VM (format ${CONFIG_FORMAT_VERSION})`);
    }
    return v as unknown as VmConfig;
  }

  async writeConfig(dir: string, cfg: VmConfig): Promise<void> {
    await writeFileAtomic(this.configPath(dir), JSON.stringify(cfg, null, 2) + '\n');
  }

  async readDescriptor(dir: string, file: string): Promise<DiskDescriptor> {
    const v = await readJson(join(dir, file), 'disk descriptor');
    if (!isObj(v) || typeof v['extent'] !== 'string' || typeof v['sizeBytes'] !== 'number' || (v['format'] !== 'luks2' && v['format'] !== 'raw')) {
      throw new AgentError('datastore_invalid', `disk descriptor ${file} in ${dir} is malformed`);
    }
    if (basename(v['extent']) !== v['extent']) throw new AgentError('datastore_invalid', `disk descriptor ${file} names an extent outside the VM folder`);
    return v as unknown as DiskDescriptor;
  }

  async writeDescriptor(dir: string, file: string, d: DiskDescriptor): Promise<void> {
    await writeFileAtomic(join(dir, file), JSON.stringify(d, null, 2) + '\n');
  }

  /** Appends a line to the VM's plaintext log. Callers never pass key material. */
  async log(dir: string, message: string): Promise<void> {
    await appendFile(join(dir, 'cryptvisor.log'), `${new Date().toISOString()} ${message}\n`);
  }

  /** VM folders found in the datastore. */
  async listVmDirs(): Promise<string[]> {
    try {
      const names = await readdir(this.root, { withFileTypes: true });
      return names.filter((d) => d.isDirectory()).map((d) => join(this.root, d.name));
    } catch {
      return [];
    }
  }
}

/** The lock a host holds on a VM's disks while they are open, with an expiring lease. */
export interface LockInfo {
  readonly hostId: string;
  readonly pid: number;
  readonly leaseUntil: string;
}

const LOCK_FILE = '.cryptvisor.lock';

export async function readLock(dir: string): Promise<LockInfo | undefined> {
  try {
    const v = JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')) as LockInfo;
    return v;
  } catch {
    return undefined;
  }
}

/** Takes or renews the lock; refuses while another host holds an unexpired lease. */
export async function acquireLock(dir: string, hostId: string, leaseMs: number): Promise<void> {
  const held = await readLock(dir);
  if (held && held.hostId !== hostId && Date.parse(held.leaseUntil) > Date.now()) {
    throw new AgentError('disk_in_use', `the disks of ${basename(dir)} are open on host ${held.hostId} (lease until ${held.leaseUntil})`);
  }
  const info: LockInfo = { hostId, pid: process.pid, leaseUntil: new Date(Date.now() + leaseMs).toISOString() };
  if (!held) {
    try {
      const fh = await open(join(dir, LOCK_FILE), 'wx');
      await fh.writeFile(JSON.stringify(info));
      await fh.close();
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      return acquireLock(dir, hostId, leaseMs); // raced with another host: look again
    }
  }
  await writeFileAtomic(join(dir, LOCK_FILE), JSON.stringify(info));
}

export async function releaseLock(dir: string, hostId: string): Promise<void> {
  const held = await readLock(dir);
  if (held && held.hostId === hostId) await unlink(join(dir, LOCK_FILE)).catch(() => undefined);
}
