/**
 * VMs through agents: the read side. center keeps which host runs a VM and its policy; the VM's
 * state lives on its agent, so `show` asks the agent. The operations that change a VM are task
 * kinds (vm-tasks.ts).
 */
import { CenterError } from './errors.js';
import type { HostManager } from './hosts.js';
import type { CenterStore } from './store/index.js';

/** The built-in policy (DESIGN §7): home and disks, default provider, one KEK per VM. */
export const BUILTIN_POLICY = 'VM Encryption Policy';

/** A VM as its agent reports it (GET /api/v1/vms/{name}). */
export interface AgentVm {
  readonly name: string;
  readonly uuid: string;
  readonly powerState: string;
  readonly cryptoState: string;
  readonly encrypted: boolean;
  readonly keyProviderId: string | null;
  readonly keyId: string | null;
  readonly pending?: string | null;
  /** A conversion running on the agent: bytes done of total. */
  readonly operation?: { readonly kind: string; readonly done: number; readonly total: number } | null;
  readonly disks: readonly {
    id: string;
    sizeBytes: number;
    extentPath: string;
    keyId: string | null;
    nbdUri?: string;
  }[];
}

/** The VM object of DESIGN §10 (`vm show --json`), exactly these fields. */
export interface VmJson {
  readonly name: string;
  readonly uuid: string;
  readonly host: string;
  readonly powerState: string;
  readonly cryptoState: string;
  readonly encrypted: boolean;
  readonly policy: string | null;
  readonly keyProviderId: string | null;
  readonly keyId: string | null;
  readonly disks: readonly {
    id: string;
    sizeBytes: number;
    extentPath: string;
    keyId: string | null;
    nbdUri?: string;
  }[];
}

/** The DESIGN §10 object of an agent's VM, with center's host and policy. */
export function vmJson(v: AgentVm, host: string, policy: string | null): VmJson {
  return {
    name: v.name,
    uuid: v.uuid,
    host,
    powerState: v.powerState,
    cryptoState: v.cryptoState,
    encrypted: v.encrypted,
    policy,
    keyProviderId: v.keyProviderId,
    keyId: v.keyId,
    disks: v.disks.map((d) => ({
      id: d.id,
      sizeBytes: d.sizeBytes,
      extentPath: d.extentPath,
      keyId: d.keyId,
      ...(v.powerState === 'poweredOn' && d.nbdUri ? { nbdUri: d.nbdUri } : {}),
    })),
  };
}

export class VmService {
  constructor(
    private readonly store: CenterStore,
    private readonly hosts: HostManager,
  ) {}

  /** center's inventory row of a VM: its host and policy (vm_not_found if center has none). */
  async locate(name: string): Promise<{ host: string; policy: string | null }> {
    const vm = (await this.store.listVms()).find((v) => v.name === name);
    if (!vm) throw new CenterError('vm_not_found', `no VM ${name}`);
    return vm;
  }

  async show(name: string): Promise<VmJson> {
    const { host, policy } = await this.locate(name);
    const h = await this.store.getHost(host);
    return vmJson(
      await this.hosts.call<AgentVm>(h, 'GET', `/api/v1/vms/${encodeURIComponent(name)}`),
      host,
      policy,
    );
  }

  async list(): Promise<VmJson[]> {
    const out: VmJson[] = [];
    for (const v of await this.store.listVms()) out.push(await this.show(v.name));
    return out;
  }
}
