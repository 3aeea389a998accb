/**
 * Key status (`cryptvisor key status KEYID`): whether a key is available at its provider (KMIP
 * GetAttributes State; never Get, so the query moves no key material), and which VMs and hosts
 * use it. The users are read from the agents (center's own tables hold no VM key references), so
 * the answer is current; an unreachable host is reported as such.
 */
import { State } from '../kmip/enums.js';
import type { KmipClient } from '../kmip/client.js';
import { CenterError } from './errors.js';
import type { HostManager, KeyRef } from './hosts.js';
import type { ProviderManager } from './providers.js';
import type { CenterStore, HostRecord } from './store/index.js';

/** A VM as its agent lists it (the fields key status and the alarms need). */
export interface AgentVmSummary {
  readonly name: string;
  readonly powerState: string;
  readonly cryptoState: string;
  readonly keyProviderId: string | null;
  readonly keyId: string | null;
  readonly disks: readonly { readonly id: string; readonly keyId: string | null }[];
}

/** What one host's agent said (or that it could not be reached). */
export interface HostInventory {
  readonly host: HostRecord;
  readonly vms: readonly AgentVmSummary[] | null;
  readonly error: string | null;
}

/** Asks every host's agent for its VMs, in parallel. */
export async function hostInventories(store: CenterStore, hosts: HostManager): Promise<HostInventory[]> {
  return Promise.all(
    (await store.listHosts()).map(async (host) => {
      try {
        const vms = await hosts.call<AgentVmSummary[]>(host, 'GET', '/api/v1/vms');
        return { host, vms, error: null };
      } catch (err) {
        return { host, vms: null, error: (err as Error).message };
      }
    }),
  );
}

/** The distinct keys the inventory uses: every VM's KEK and every host key. */
export function usedKeys(inv: readonly HostInventory[]): KeyRef[] {
  const refs = new Map<string, KeyRef>();
  const add = (keyProviderId: string | null, keyId: string | null): void => {
    if (keyProviderId && keyId) refs.set(`${keyProviderId}\u0000${keyId}`, { keyProviderId, keyId });
  };
  for (const i of inv) {
    add(i.host.hostKeyProviderId, i.host.hostKeyId);
    for (const v of i.vms ?? []) add(v.keyProviderId, v.keyId);
  }
  return [...refs.values()];
}

export interface ProviderKeyState {
  readonly provider: string;
  /** The KMIP State name (Active, Deactivated, Destroyed, ...), or null when not learned. */
  readonly state: string | null;
  /** Found, and in a state whose key can still be fetched (not Destroyed). */
  readonly available: boolean;
  /** True when the provider answered that it has no such object. */
  readonly missing: boolean;
  readonly error: string | null;
}

const UNUSABLE_STATES = new Set(['Destroyed', 'DestroyedCompromised']);

/** The key's KMIP state at one provider (GetAttributes State). */
export async function keyStateAt(
  provider: string,
  client: KmipClient,
  keyId: string,
): Promise<ProviderKeyState> {
  try {
    const attrs = await client.getAttributes(keyId, ['State']);
    const n = attrs.find((a) => a.name === 'State')?.value.value;
    const state = Object.entries(State).find(([, v]) => v === n)?.[0] ?? null;
    return {
      provider,
      state,
      available: state === null || !UNUSABLE_STATES.has(state),
      missing: false,
      error: null,
    };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const missing = code === 'item_not_found';
    return {
      provider,
      state: null,
      available: false,
      missing,
      error: missing ? 'no such object at the provider' : (err as Error).message,
    };
  }
}

export interface KeyStatus {
  readonly keyId: string;
  /** True when at least one provider that should hold the key has it in a usable state. */
  readonly available: boolean;
  readonly providers: readonly ProviderKeyState[];
  readonly vms: readonly {
    readonly name: string;
    readonly host: string;
    readonly keyProviderId: string;
    readonly powerState: string;
    readonly cryptoState: string;
    readonly disks: readonly string[];
  }[];
  readonly hosts: readonly { readonly name: string; readonly uses: readonly string[] }[];
  /** Hosts whose agents could not be asked (their VMs are not in `vms`). */
  readonly unreachableHosts: readonly string[];
}

/**
 * The status of keyId: asked at the providers that the inventory names for it (or at the one
 * named, or at every provider when nothing uses it). `key_not_found` when no provider knows it
 * and nothing uses it.
 */
export async function keyStatus(
  deps: { store: CenterStore; hosts: HostManager; providers: ProviderManager },
  keyId: string,
  providerName?: string,
): Promise<KeyStatus> {
  const inv = await hostInventories(deps.store, deps.hosts);
  const vms: KeyStatus['vms'][number][] = [];
  const hostUses = new Map<string, Set<string>>();
  const named = new Set<string>();
  const use = (host: string, what: string): void => {
    const s = hostUses.get(host) ?? new Set<string>();
    s.add(what);
    hostUses.set(host, s);
  };
  for (const i of inv) {
    if (i.host.hostKeyId === keyId && i.host.hostKeyProviderId) {
      named.add(i.host.hostKeyProviderId);
      use(i.host.name, 'host key');
    }
    for (const v of i.vms ?? []) {
      const disks = v.disks.filter((d) => d.keyId === keyId).map((d) => d.id);
      if (v.keyId !== keyId && disks.length === 0) continue;
      const provider = v.keyProviderId ?? '';
      if (provider) named.add(provider);
      vms.push({
        name: v.name,
        host: i.host.name,
        keyProviderId: provider,
        powerState: v.powerState,
        cryptoState: v.cryptoState,
        disks,
      });
      use(i.host.name, `VM ${v.name}`);
    }
  }
  if (providerName) {
    await deps.store.getProvider(providerName);
    named.clear();
    named.add(providerName);
  }
  const candidates =
    named.size > 0 ? [...named] : (await deps.store.listProviders()).map((p) => p.name);
  const providers = await Promise.all(
    candidates.map(async (name) => {
      try {
        const { client } = await deps.providers.client(name);
        return await keyStateAt(name, client, keyId);
      } catch (err) {
        return {
          provider: name,
          state: null,
          available: false,
          missing: false,
          error: (err as Error).message,
        };
      }
    }),
  );
  const known = providers.filter((p) => !p.missing && p.error === null);
  if (vms.length === 0 && hostUses.size === 0 && known.length === 0 && providers.every((p) => p.missing))
    throw new CenterError('key_not_found', `no provider has key ${keyId} and nothing uses it`);
  return {
    keyId,
    available: providers.some((p) => p.available),
    providers: named.size > 0 ? providers : known,
    vms,
    hosts: [...hostUses].map(([name, uses]) => ({ name, uses: [...uses] })),
    unreachableHosts: inv.filter((i) => i.vms === null).map((i) => i.host.name),
  };
}
