/**
 * Suspend, resume and snapshot state (docs/agent.md, "Suspend, resume, snapshot"): QEMU's
 * migration stream (memory and device state) goes straight into a file sealed under the VM's home
 * DEK (`src/crypto` sealed files), and comes back from it; no plaintext copy is ever written. A
 * plain (unencrypted) VM's state files are plain, like its disks.
 */
import { open } from 'node:fs/promises';
import { createSealedWriter, openSealedReader, type SealedIdentity, type SecretBytes } from '../crypto/index.js';
import type { QemuVm } from './runtime/qemu.js';

export const SUSPEND_FILE = 'suspend.cvss';

export function suspendIdentity(vmUuid: string): SealedIdentity {
  return { purpose: 'vm-suspend', fileId: `${vmUuid}/suspend` };
}

export function snapshotIdentity(vmUuid: string, snapshotId: string): SealedIdentity {
  return { purpose: 'vm-snapshot-memory', fileId: `${vmUuid}/${snapshotId}` };
}

export function snapshotFile(snapshotId: string): string {
  return `snapshot-${snapshotId}.cvss`;
}

/** Streams the VM's state into `path`: sealed under `homeKey`, or plain when the VM is plain. */
export async function saveVmState(qemu: QemuVm, path: string, homeKey: SecretBytes | null, id: SealedIdentity): Promise<number> {
  if (homeKey) {
    const w = await createSealedWriter(homeKey, path, { ...id, fsync: true });
    try {
      await qemu.migrateOut((chunk) => w.write(chunk));
      await w.finish();
      return w.bytesWritten;
    } catch (err) {
      await w.abort().catch(() => undefined);
      throw err;
    }
  }
  const fh = await open(path, 'w', 0o600);
  let n = 0;
  try {
    await qemu.migrateOut(async (chunk) => {
      await fh.write(chunk);
      n += chunk.length;
    });
    await fh.sync();
  } finally {
    await fh.close();
  }
  return n;
}

/** Feeds a saved state to a QEMU started with `-incoming` (sealed files are verified chunk by chunk). */
export async function loadVmState(qemu: QemuVm, incoming: string, path: string, homeKey: SecretBytes | null, id: SealedIdentity): Promise<void> {
  if (homeKey) {
    const r = await openSealedReader(homeKey, path, id);
    try {
      await qemu.migrateIn(incoming, r.chunks());
    } finally {
      await r.close();
    }
    return;
  }
  const fh = await open(path, 'r');
  try {
    await qemu.migrateIn(incoming, fh.createReadStream({ autoClose: false }));
  } finally {
    await fh.close();
  }
}
