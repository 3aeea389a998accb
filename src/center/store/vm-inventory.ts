/**
 * Changes to center's VM inventory (the `vms` table of schema.ts) that VM tasks make: a VM's
 * policy after encrypt or decrypt, and forgetting a VM on unregister or delete. Rows are added by
 * CenterStore.addVm.
 */
import type { SqlDriver } from './driver.js';

export async function setVmPolicy(db: SqlDriver, name: string, policy: string | null): Promise<void> {
  await db.run('UPDATE vms SET policy = ? WHERE name = ?', [policy, name]);
}

export async function setVmHost(db: SqlDriver, name: string, host: string): Promise<void> {
  await db.run('UPDATE vms SET host = ? WHERE name = ?', [host, name]);
}

export async function removeVm(db: SqlDriver, name: string): Promise<void> {
  await db.run('DELETE FROM vms WHERE name = ?', [name]);
}
