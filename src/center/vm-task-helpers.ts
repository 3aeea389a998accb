/** What the VM task kinds (vm-tasks.ts, vm-move.ts, reconciler.ts) share: agent paths, params, keys. */
import { CenterError } from './errors.js';
import type { KeyRef } from './hosts.js';
import type { CenterServices } from './routes.js';
import type { HostRecord } from './store/index.js';
import type { AgentVm } from './vms.js';

/** An agent API path of a VM. */
export const vmPath = (name: string, rest = ''): string => `/api/v1/vms/${encodeURIComponent(name)}${rest}`;

/** The agent API path of a KEK in its memory. */
export const keyPath = (r: KeyRef): string =>
  `/api/v1/keys/${encodeURIComponent(r.keyProviderId)}/${encodeURIComponent(r.keyId)}`;

/** A task's required string parameter. */
export function param(params: Record<string, unknown>, name: string): string {
  const v = params[name];
  if (typeof v !== 'string' || v.length === 0)
    throw new CenterError('invalid_request', `the task has no "${name}"`);
  return v;
}

/** A task's optional string parameter (null when absent or empty). */
export function optParam(params: Record<string, unknown>, name: string): string | null {
  const v = params[name];
  return typeof v === 'string' && v.length > 0 ? v : null;
}

/** The VM as its agent shows it now. */
export function agentVm<T extends AgentVm = AgentVm>(svc: CenterServices, host: HostRecord, name: string): Promise<T> {
  return svc.hosts.call<T>(host, 'GET', vmPath(name));
}

/** Gets a KEK from its provider and pushes it to the agent (the buffer is zeroed after). */
export function pushKek(svc: CenterServices, host: HostRecord, ref: KeyRef): Promise<void> {
  return svc.hosts.pushKey(host, ref, 'PUT', keyPath(ref), {});
}

/** The distinct KEKs a VM's configuration and disks name (a shallow rekey cut short names two). */
export function vmKeys(v: AgentVm): KeyRef[] {
  const provider = v.keyProviderId;
  if (!provider) return [];
  const ids = new Set([v.keyId, ...v.disks.map((d) => d.keyId)].filter((k): k is string => !!k));
  return [...ids].map((keyId) => ({ keyProviderId: provider, keyId }));
}
