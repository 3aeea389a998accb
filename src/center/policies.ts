/**
 * Encryption policies (DESIGN.md §7, docs/center.md "Policies"): which key provider, what is
 * encrypted, the key scope (one KEK per VM, or one shared by all the policy's VMs), an optional
 * escrow passphrase (KMIP Secret Data at the provider; center keeps only its ID and fetches it
 * like a KEK when a disk needs an escrow keyslot) and an optional rotation schedule.
 *
 * A VM's policy is its own (center's `vms.policy`, set by `vm create|encrypt --policy` or
 * `policy assign --vm`), else its folder's, else its tags'. The built-in `VM Encryption Policy`
 * is a constant: it exists from `center init` on and is read-only.
 */
import { randomBytes } from 'node:crypto';
import { CommonError } from '../common/errors.js';
import type { Logger } from '../common/logging.js';
import { SecretBytes } from '../crypto/index.js';
import { CenterError } from './errors.js';
import type { HostManager } from './hosts.js';
import type { ProviderManager } from './providers.js';
import { Reconciler, type ReconcileReport } from './reconciler.js';
import type { CenterServices } from './routes.js';
import type { CenterStore } from './store/index.js';
import {
  PolicyStore,
  type Assignment,
  type GroupKind,
  type KeyReference,
  type KeyScope,
  type PolicyRecord,
  type VmGroups,
} from './store/policy-store.js';
import { setVmPolicy } from './store/vm-inventory.js';
import type { VmJson } from './vms.js';

/** The built-in policy of DESIGN §7 (the same name as vms.ts's BUILTIN_POLICY). */
export const BUILTIN_POLICY_NAME = 'VM Encryption Policy';
export const ENCRYPTED_PARTS = ['home', 'disks'] as const;
const DAY_MS = 86_400_000;

/** A policy as the API shows it. `keyProvider` null: the default provider. */
export interface Policy extends PolicyRecord {
  readonly builtin: boolean;
  readonly encrypt: readonly string[];
}

export interface PolicyInput {
  readonly keyProvider?: string;
  readonly encrypt?: string;
  readonly keyScope?: KeyScope;
  /** `none`, `generate` (a random passphrase), or `passphrase` (then `escrowPassphrase`). */
  readonly escrow?: 'none' | 'generate' | 'passphrase';
  readonly escrowPassphrase?: string;
  /** 0: no rotation. */
  readonly rotateDays?: number;
}

export interface GroupTarget {
  readonly vm?: string;
  readonly folder?: string;
  readonly tag?: string;
}

export type PolicyAction = 'encrypt' | 'rekey' | 'escrow';

export interface Compliance {
  readonly vm: string;
  readonly host: string;
  readonly policy: string | null;
  /** Where the policy comes from: the VM itself, its folder, one of its tags. */
  readonly via: 'vm' | 'folder' | 'tag' | null;
  readonly compliant: boolean;
  readonly reasons: readonly string[];
  /** What the reconciler would do, most urgent first. */
  readonly actions: readonly PolicyAction[];
  readonly powerState: string;
  readonly cryptoState: string;
}

const BUILTIN: Policy = Object.freeze({
  name: BUILTIN_POLICY_NAME,
  builtin: true,
  keyProvider: null,
  encrypt: ENCRYPTED_PARTS,
  keyScope: 'vm',
  sharedKey: null,
  escrow: null,
  rotateDays: null,
  createdAt: '1970-01-01T00:00:00.000Z',
  updatedAt: '1970-01-01T00:00:00.000Z',
});

function view(p: PolicyRecord): Policy {
  return { ...p, builtin: false, encrypt: ENCRYPTED_PARTS };
}

/** Checks `home,disks`: the agent encrypts a VM's home and every disk together, nothing less. */
function checkEncrypt(list: string | undefined): void {
  if (list === undefined) return;
  const parts = [...new Set(list.split(',').map((s) => s.trim()).filter(Boolean))].sort();
  const unknown = parts.filter((p) => !(ENCRYPTED_PARTS as readonly string[]).includes(p));
  if (unknown.length > 0)
    throw new CenterError('invalid_request', `"encrypt" names home and disks, not ${unknown.join(', ')}`);
  if (parts.length !== ENCRYPTED_PARTS.length)
    throw new CommonError('not_supported', 'a policy encrypts both home and disks (encrypting only one is not supported)');
}

/** Which policy a VM gets: its own, else its folder's, else its tags' (which must agree). */
export function effectivePolicy(
  own: string | null,
  groups: VmGroups | undefined,
  assignments: readonly Assignment[],
): { policy: string | null; via: Compliance['via']; conflict: string | null } {
  if (own) return { policy: own, via: 'vm', conflict: null };
  const of = (kind: GroupKind, target: string | null): string | undefined =>
    target === null ? undefined : assignments.find((a) => a.kind === kind && a.target === target)?.policy;
  const folder = of('folder', groups?.folder ?? null);
  if (folder) return { policy: folder, via: 'folder', conflict: null };
  const byTag = (groups?.tags ?? []).map((t) => ({ tag: t, policy: of('tag', t) })).filter((x) => x.policy);
  const distinct = [...new Set(byTag.map((x) => x.policy))];
  if (distinct.length > 1) {
    const detail = byTag.map((x) => `${x.tag} → ${x.policy}`).join(', ');
    return { policy: null, via: 'tag', conflict: `its tags assign different policies (${detail})` };
  }
  return { policy: distinct[0] ?? null, via: distinct[0] ? 'tag' : null, conflict: null };
}

export class PolicyService {
  readonly store: PolicyStore;
  #reconciler: Reconciler | undefined;

  constructor(
    private readonly center: CenterStore,
    private readonly providers: ProviderManager,
    private readonly hosts: HostManager,
  ) {
    this.store = new PolicyStore(center.db);
  }

  /** Starts the periodic reconciler (center's start); `svc` are the services its tasks use. */
  startReconciler(svc: CenterServices, logger: Logger, intervalMs?: number): void {
    this.#reconciler = new Reconciler(svc, logger);
    this.#reconciler.start(intervalMs);
  }

  /** One reconcile pass now (`POST /api/v1/policies/reconcile`). */
  async reconcile(actor: string): Promise<ReconcileReport> {
    if (!this.#reconciler) throw new CenterError('center_unreachable', 'the reconciler is not running');
    return this.#reconciler.run(actor);
  }

  async close(): Promise<void> {
    await this.#reconciler?.close();
  }

  /** The policy named `name` (policy_not_found otherwise). VM operations call this. */
  async resolve(name: string): Promise<Policy> {
    if (name === BUILTIN_POLICY_NAME) return BUILTIN;
    const p = await this.store.find(name);
    if (!p) throw new CenterError('policy_not_found', `no policy "${name}"`);
    return view(p);
  }

  async list(): Promise<Policy[]> {
    return [BUILTIN, ...(await this.store.list()).map(view)];
  }

  /** The provider a policy's keys go to now (its own, or the current default). */
  async providerOf(p: Policy): Promise<string> {
    return p.keyProvider ?? (await this.center.defaultProvider()).name;
  }

  /** Registers an escrow passphrase (given, or generated) as Secret Data; the buffer is zeroed. */
  private async registerEscrow(
    policy: string,
    provider: string,
    given: string | undefined,
  ): Promise<{ keyProviderId: string; secretId: string }> {
    const raw = given === undefined ? Buffer.from(randomBytes(24).toString('base64url')) : Buffer.from(given, 'utf8');
    const secret = SecretBytes.from(raw, { zeroSource: true });
    try {
      const { client } = await this.providers.client(provider);
      return { keyProviderId: provider, secretId: await client.registerSecretData(secret, `escrow-${policy}`) };
    } finally {
      secret.dispose();
    }
  }

  private async escrowFor(
    name: string,
    provider: string,
    input: PolicyInput,
    current: Policy['escrow'],
  ): Promise<Policy['escrow']> {
    if (input.escrow === undefined) {
      if (input.escrowPassphrase !== undefined)
        throw new CenterError('invalid_request', '"escrowPassphrase" goes with "escrow": "passphrase"');
      return current;
    }
    if (input.escrow === 'passphrase') {
      const pass = input.escrowPassphrase;
      if (pass === undefined || pass.length < 8)
        throw new CenterError('invalid_request', '"escrow": "passphrase" needs "escrowPassphrase" of at least 8 characters');
      return this.registerEscrow(name, provider, pass);
    }
    if (input.escrowPassphrase !== undefined)
      throw new CenterError('invalid_request', '"escrowPassphrase" goes with "escrow": "passphrase"');
    return input.escrow === 'generate' ? this.registerEscrow(name, provider, undefined) : null;
  }

  async create(name: string, input: PolicyInput): Promise<Policy> {
    if (name === BUILTIN_POLICY_NAME || (await this.store.find(name)))
      throw new CenterError('policy_exists', `policy "${name}" exists`);
    checkEncrypt(input.encrypt);
    if (input.keyProvider) await this.center.getProvider(input.keyProvider);
    const keyProvider = input.keyProvider ?? null;
    const provider = keyProvider ?? (await this.center.defaultProvider()).name;
    const escrow = await this.escrowFor(name, provider, input, null);
    return view(
      await this.store.create({
        name,
        keyProvider,
        keyScope: input.keyScope ?? 'vm',
        sharedKey: null,
        escrow,
        rotateDays: input.rotateDays ? input.rotateDays : null,
      }),
    );
  }

  /**
   * Changes a policy; the built-in one is read-only. A new provider or scope drops the shared KEK
   * reference (the next reconcile makes one and shallow-rekeys the VMs). A new escrow passphrase
   * is registered anew; the old Secret Data stays at the provider (disks may still hold keyslots of it).
   */
  async edit(name: string, input: PolicyInput & { keyProvider?: string }): Promise<Policy> {
    if (name === BUILTIN_POLICY_NAME)
      throw new CenterError('policy_read_only', `"${BUILTIN_POLICY_NAME}" is built in and cannot be changed`);
    const p = await this.store.find(name);
    if (!p) throw new CenterError('policy_not_found', `no policy "${name}"`);
    checkEncrypt(input.encrypt);
    let keyProvider = p.keyProvider;
    if (input.keyProvider !== undefined) {
      keyProvider = input.keyProvider === 'default' ? null : input.keyProvider;
      if (keyProvider) await this.center.getProvider(keyProvider);
    }
    const keyScope = input.keyScope ?? p.keyScope;
    const provider = keyProvider ?? (await this.center.defaultProvider()).name;
    const escrow = await this.escrowFor(name, provider, input, p.escrow);
    const keepShared = keyProvider === p.keyProvider && keyScope === p.keyScope && keyScope === 'shared';
    return view(
      await this.store.update({
        name,
        keyProvider,
        keyScope,
        sharedKey: keepShared ? p.sharedKey : null,
        escrow,
        rotateDays: input.rotateDays === undefined ? p.rotateDays : input.rotateDays || null,
      }),
    );
  }

  private static target(t: GroupTarget): { kind: 'vm' | GroupKind; name: string } {
    const given = (['vm', 'folder', 'tag'] as const).filter((k) => t[k] !== undefined);
    if (given.length !== 1) throw new CenterError('invalid_request', 'name exactly one of "vm", "folder", "tag"');
    const kind = given[0]!;
    return { kind, name: t[kind]! };
  }

  private async knownVm(name: string): Promise<void> {
    if (!(await this.center.listVms()).some((v) => v.name === name))
      throw new CenterError('vm_not_found', `no VM ${name}`);
  }

  async assign(policy: string, t: GroupTarget): Promise<{ policy: string; kind: string; target: string }> {
    await this.resolve(policy);
    const { kind, name } = PolicyService.target(t);
    if (kind === 'vm') {
      await this.knownVm(name);
      await setVmPolicy(this.center.db, name, policy);
    } else await this.store.assign(kind, name, policy);
    return { policy, kind, target: name };
  }

  async unassign(t: GroupTarget): Promise<{ kind: string; target: string }> {
    const { kind, name } = PolicyService.target(t);
    if (kind === 'vm') {
      await this.knownVm(name);
      await setVmPolicy(this.center.db, name, null);
    } else if (!(await this.store.unassign(kind, name)))
      throw new CenterError('policy_not_found', `no policy is assigned to ${kind} ${name}`);
    return { kind, target: name };
  }

  async setGroups(vm: string, g: VmGroups): Promise<{ vm: string } & VmGroups> {
    await this.knownVm(vm);
    const tags = [...new Set(g.tags)].sort();
    await this.store.setGroups(vm, { folder: g.folder, tags });
    return { vm, folder: g.folder, tags };
  }

  async assignments(): Promise<{ assignments: Assignment[]; groups: Map<string, VmGroups> }> {
    return { assignments: await this.store.assignments(), groups: await this.store.groups() };
  }

  /**
   * The KEK a VM gets under a policy: a new one (Create + Activate at the policy's provider), or
   * for a shared-scope policy its one shared KEK (made on first use, and again when it is older
   * than the rotation period). Only the reference is kept.
   */
  async kekFor(policyName: string, vm: string): Promise<KeyReference> {
    const p = await this.resolve(policyName);
    const provider = await this.providerOf(p);
    if (p.keyScope === 'shared' && p.sharedKey?.keyProviderId === provider) {
      const since = Date.parse(await this.store.keySince(`policy:${p.name}`, p.sharedKey));
      if (!p.rotateDays || Date.now() - since < p.rotateDays * DAY_MS) return p.sharedKey;
    }
    const { client } = await this.providers.client(provider);
    const keyId = await client.create({
      algorithm: 'AES',
      length: 256,
      usageMask: ['Encrypt', 'Decrypt'],
      name: p.keyScope === 'shared' ? `kek-policy-${p.name}` : `kek-${vm}`,
    });
    await client.activate(keyId);
    const key = { keyProviderId: provider, keyId };
    if (p.keyScope !== 'shared' || p.builtin) return key;
    const inForce = await this.store.setSharedKey(p.name, key, p.sharedKey);
    await this.store.keySince(`policy:${p.name}`, inForce);
    return inForce;
  }

  /**
   * Fetches a policy's escrow passphrase and has the VM's agent add an escrow keyslot to each disk
   * (nothing when the policy has no escrow). VM operations call it after encrypting under a policy.
   */
  async applyEscrow(vm: VmJson, policyName: string): Promise<{ disks: unknown[] }> {
    const p = await this.resolve(policyName);
    if (!p.escrow || !vm.encrypted) return { disks: [] };
    const host = await this.center.getHost(vm.host);
    const path = `/api/v1/vms/${encodeURIComponent(vm.name)}/escrow`;
    const { client } = await this.providers.client(p.escrow.keyProviderId);
    const obj = await client.get(p.escrow.secretId);
    try {
      const passphrase = obj.material.use((b) => b.toString('base64'));
      return await this.hosts.call(host, 'PUT', path, { escrowId: p.escrow.secretId, passphrase });
    } finally {
      obj.material.dispose();
    }
  }

  /** Wipes every escrow keyslot of a VM's disks (crypto-shred). */
  async clearEscrow(vm: VmJson): Promise<{ disks: unknown[] }> {
    const host = await this.center.getHost(vm.host);
    return this.hosts.call(host, 'DELETE', `/api/v1/vms/${encodeURIComponent(vm.name)}/escrow`);
  }

  /**
   * Compliance of every VM center knows, each asked from its agent through `show` (`svc.vms.show`).
   * A VM whose host does not answer is reported as such; the others are checked all the same.
   */
  async compliance(show: (name: string) => Promise<VmJson>): Promise<Compliance[]> {
    const { assignments, groups } = await this.assignments();
    const inventory = await this.center.listVms();
    const vms: VmJson[] = [];
    const unknown = new Map<string, string>();
    for (const v of inventory) {
      try {
        vms.push(await show(v.name));
      } catch (err) {
        unknown.set(v.name, (err as Error).message);
      }
    }
    const byKey = new Map<string, string[]>();
    for (const v of vms) if (v.keyId) byKey.set(v.keyId, [...(byKey.get(v.keyId) ?? []), v.name]);
    const out: Compliance[] = [];
    for (const row of inventory) {
      const eff = effectivePolicy(row.policy, groups.get(row.name), assignments);
      const v = vms.find((x) => x.name === row.name);
      const base = {
        vm: row.name,
        host: row.host,
        policy: eff.policy,
        via: eff.via,
        powerState: v?.powerState ?? 'unknown',
        cryptoState: v?.cryptoState ?? 'unknown',
      };
      const fail = (reason: string): Compliance => ({ ...base, compliant: false, reasons: [reason], actions: [] });
      if (eff.conflict) out.push(fail(eff.conflict));
      else if (!eff.policy) out.push({ ...base, compliant: true, reasons: [], actions: [] });
      else if (!v) out.push(fail(`its host could not be asked: ${unknown.get(row.name) ?? 'no answer'}`));
      else {
        const p = await this.resolve(eff.policy).catch(() => undefined);
        if (!p) out.push(fail(`policy "${eff.policy}" does not exist`));
        else {
          const { reasons, actions } = await this.check(v, p, byKey);
          out.push({ ...base, compliant: reasons.length === 0, reasons, actions });
        }
      }
    }
    return out;
  }

  private async check(
    v: VmJson,
    p: Policy,
    byKey: ReadonlyMap<string, readonly string[]>,
  ): Promise<{ reasons: string[]; actions: PolicyAction[] }> {
    if (!v.encrypted || !v.keyId || !v.keyProviderId)
      return { reasons: ['not encrypted'], actions: ['encrypt'] };
    const reasons: string[] = [];
    const actions = new Set<PolicyAction>();
    const rekey = (why: string): void => {
      reasons.push(why);
      actions.add('rekey');
    };
    const provider = await this.providerOf(p);
    if (v.keyProviderId !== provider) rekey(`its KEK is at provider ${v.keyProviderId}; the policy wants ${provider}`);
    const odd = v.disks.filter((d) => d.keyId !== null && d.keyId !== v.keyId).map((d) => d.id);
    if (odd.length > 0) rekey(`disks ${odd.join(', ')} are wrapped by another KEK than the VM's`);
    const sharers = (byKey.get(v.keyId) ?? []).filter((n) => n !== v.name);
    if (p.keyScope === 'shared') {
      if (p.sharedKey?.keyId !== v.keyId) rekey("its KEK is not the policy's shared KEK");
    } else if (sharers.length > 0) rekey(`its KEK is shared with ${sharers.join(', ')}; the policy wants one KEK per VM`);
    // The KEK's age is recorded from the first check that sees it, rotation or not.
    const age = Date.now() - Date.parse(await this.store.keySince(v.name, { keyProviderId: v.keyProviderId, keyId: v.keyId }));
    if (p.rotateDays) {
      if (age >= p.rotateDays * DAY_MS)
        rekey(`its KEK is ${Math.floor(age / DAY_MS)} days old; the policy rotates it every ${p.rotateDays} days`);
    }
    // Escrow keyslots: the policy's (found by the escrow ID in each disk's token), or none that
    // center made (keyslots an operator added by hand are left alone while the policy has none).
    const host = await this.center.getHost(v.host);
    const status = await this.hosts
      .call<{ disks: { id: string; escrowId: string | null }[] }>(
        host,
        'GET',
        `/api/v1/vms/${encodeURIComponent(v.name)}/escrow`,
      )
      .catch((err: unknown) => {
        reasons.push(`escrow keyslots unknown: ${(err as Error).message}`);
        return { disks: [] };
      });
    const wrong = status.disks
      .filter((d) => (p.escrow ? d.escrowId !== p.escrow.secretId : d.escrowId !== null))
      .map((d) => d.id);
    if (wrong.length > 0) {
      reasons.push(
        p.escrow
          ? `disks ${wrong.join(', ')} have no escrow keyslot for the policy's passphrase`
          : `disks ${wrong.join(', ')} have escrow keyslots the policy does not have`,
      );
      actions.add('escrow');
    }
    return { reasons, actions: [...actions] };
  }
}
