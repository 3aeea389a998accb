/**
 * VMs through agents. center keeps which host runs a VM and its policy; the VM's state lives on
 * its agent. Creating an encrypted VM is DESIGN §2 steps 1–3: Create + Activate a KEK at the
 * policy's provider, keep only {keyProviderId, keyId}, Get it, push it to the agent, zero it,
 * then order the VM made with that key reference.
 */
import { CenterError } from './errors.js';
import type { HostManager } from './hosts.js';
import type { ProviderManager } from './providers.js';
import type { CenterStore } from './store/index.js';

/** The built-in policy (DESIGN §7): home and disks, default provider, one KEK per VM. */
export const BUILTIN_POLICY = 'VM Encryption Policy';

interface AgentVm {
  readonly name: string;
  readonly uuid: string;
  readonly powerState: string;
  readonly cryptoState: string;
  readonly encrypted: boolean;
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

function toJson(v: AgentVm, host: string, policy: string | null): VmJson {
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
    private readonly providers: ProviderManager,
  ) {}

  private async locate(name: string): Promise<{ host: string; policy: string | null }> {
    const vm = (await this.store.listVms()).find((v) => v.name === name);
    if (!vm) throw new CenterError('vm_not_found', `no VM ${name}`);
    return vm;
  }

  async create(
    name: string,
    hostName: string,
    disks: readonly number[],
    policy: string | null,
  ): Promise<VmJson> {
    if (policy !== null && policy !== BUILTIN_POLICY)
      throw new CenterError(
        'policy_not_found',
        `no policy "${policy}" (only "${BUILTIN_POLICY}" exists yet)`,
      );
    if ((await this.store.listVms()).some((v) => v.name === name))
      throw new CenterError('vm_exists', `VM ${name} exists`);
    const host = await this.store.getHost(hostName);
    let encryption: { keyProviderId: string; keyId: string } | null = null;
    if (policy !== null) {
      const { provider, client } = await this.providers.client();
      const keyId = await client.create({
        algorithm: 'AES',
        length: 256,
        usageMask: ['Encrypt', 'Decrypt'],
        name: `kek-${name}`,
      });
      await client.activate(keyId);
      encryption = { keyProviderId: provider.name, keyId };
      await this.hosts.pushKey(
        host,
        encryption,
        'PUT',
        `/api/v1/keys/${encodeURIComponent(provider.name)}/${encodeURIComponent(keyId)}`,
        {},
      );
    }
    const v = await this.hosts.call<AgentVm>(host, 'POST', '/api/v1/vms', { name, disks, encryption });
    await this.store.addVm(name, hostName, policy);
    return toJson(v, hostName, policy);
  }

  async show(name: string): Promise<VmJson> {
    const { host, policy } = await this.locate(name);
    const h = await this.store.getHost(host);
    return toJson(
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

  async power(name: string, action: 'power-on' | 'power-off'): Promise<VmJson> {
    const { host, policy } = await this.locate(name);
    const h = await this.store.getHost(host);
    return toJson(
      await this.hosts.call<AgentVm>(h, 'POST', `/api/v1/vms/${encodeURIComponent(name)}/${action}`, {}),
      host,
      policy,
    );
  }
}
