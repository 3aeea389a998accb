/**
 * Migrate, clone and crypto-shred as durable task kinds (docs/center.md, "Migrate, clone,
 * shred"). Each records its decisions in steps (ctx.step), so a task resumed after a center
 * restart repeats no finished agent call and never makes a second KEK.
 *
 * - `vm.migrate`: the VM's KEKs are pushed to the target host, the source powers the VM off (if
 *   it was on) and unregisters it, the target registers the same folder of the shared datastore,
 *   the source drops the KEKs no other VM there needs, and the VM powers on again at the target if
 *   it was on. The data is never rewritten: it stays ciphertext.
 * - `vm.clone`: a new KEK (Create + Activate at the source's provider) for the copy, pushed to the
 *   source's host, which copies the powered-off VM and re-wraps its DEKs under it (or, with
 *   `newKeys`, re-encrypts the copy under new DEKs).
 * - `vm.shred`: refused when another VM shares a KEK of the VM unless all sharers are named; every
 *   VM under those KEKs is powered off and its keyslots erased by its agent, every host drops the
 *   KEKs, then each is Revoked (Cessation of Operation) and Destroyed at its provider.
 */
import { KmipError } from '../kmip/index.js';
import { CenterError, CenterRemoteError } from './errors.js';
import type { KeyRef } from './hosts.js';
import type { CenterServices } from './routes.js';
import type { HostRecord } from './store/index.js';
import { setVmHost } from './store/vm-inventory.js';
import type { TaskContext, TaskKind } from './tasks.js';
import { agentVm as agentView, keyPath, param, pushKek, vmKeys, vmPath } from './vm-task-helpers.js';
import { vmJson, type AgentVm, type VmJson } from './vms.js';

/** The agent's view of a VM also names its folder on the datastore. */
type PlacedVm = AgentVm & { readonly path: string };

const agentVm = (svc: CenterServices, host: HostRecord, name: string): Promise<PlacedVm> =>
  agentView<PlacedVm>(svc, host, name);

const sameKey = (a: KeyRef, b: KeyRef): boolean => a.keyProviderId === b.keyProviderId && a.keyId === b.keyId;

/** Whether an agent call failed with this agent error code. */
const agentSaid = (err: unknown, code: string): boolean =>
  err instanceof CenterRemoteError && err.code === code;

/** Drops a KEK from an agent's memory; a key the agent does not hold counts as dropped. */
async function dropKek(svc: CenterServices, host: HostRecord, ref: KeyRef): Promise<void> {
  try {
    await svc.hosts.call(host, 'DELETE', keyPath(ref));
  } catch (err) {
    if (!agentSaid(err, 'key_missing')) throw err;
  }
}

async function finish(
  ctx: TaskContext,
  host: HostRecord,
  name: string,
  policy: string | null,
): Promise<VmJson> {
  await ctx.progress(1, 1);
  return vmJson(await agentVm(ctx.svc, host, name), host.name, policy);
}

// ---- migrate --------------------------------------------------------------------------------

interface MigratePlan {
  readonly from: string;
  readonly policy: string | null;
  readonly path: string;
  readonly wasOn: boolean;
  readonly keys: KeyRef[];
}

const migrate: TaskKind = {
  kind: 'vm.migrate',
  cancellable: false,
  async run(ctx, p) {
    const { svc } = ctx;
    const name = param(p, 'name');
    const target = await svc.store.getHost(param(p, 'to'));
    const plan = await ctx.step<MigratePlan>('plan', async () => {
      const inv = await svc.vms.locate(name);
      if (inv.host === target.name)
        throw new CenterError('invalid_request', `VM ${name} is already on host ${target.name}`);
      const v = await agentVm(svc, await svc.store.getHost(inv.host), name);
      if (v.pending)
        throw new CenterError('vm_power_state', `VM ${name} has an unfinished ${v.pending}; unlock it first`);
      if (v.cryptoState === 'locked')
        throw new CenterError('vm_crypto_state', `VM ${name} is locked on host ${inv.host}; unlock it first`);
      return {
        from: inv.host,
        policy: inv.policy,
        path: v.path,
        wasOn: v.powerState === 'poweredOn',
        keys: vmKeys(v),
      };
    });
    const source = await svc.store.getHost(plan.from);
    const total = 6;
    await ctx.progress(0, total, `pushing ${plan.keys.length} key(s) to ${target.name}`);
    for (const k of plan.keys) await pushKek(svc, target, k);
    if (plan.wasOn) {
      await ctx.progress(1, total, `powering ${name} off on ${source.name}`);
      await ctx.step('power-off', () =>
        svc.hosts.call(source, 'POST', vmPath(name, '/power-off'), {}).then(() => true),
      );
    }
    await ctx.progress(2, total, `unregistering ${name} from ${source.name}`);
    await ctx.step('unregister', async () => {
      try {
        await svc.hosts.call(source, 'POST', vmPath(name, '/unregister'), {});
      } catch (err) {
        if (!agentSaid(err, 'vm_not_found')) throw err;
      }
      return true;
    });
    await ctx.progress(3, total, `registering ${name} on ${target.name}`);
    await ctx.step('register', async () => {
      try {
        await svc.hosts.call(target, 'POST', '/api/v1/vms/register', { path: plan.path });
      } catch (err) {
        if (agentSaid(err, 'vm_exists')) return true;
        // Put the VM back where it was (its keys are still there) and report the failure.
        await svc.hosts
          .call(source, 'POST', '/api/v1/vms/register', { path: plan.path })
          .catch(() => undefined);
        throw err;
      }
      return true;
    });
    await ctx.step('inventory', () => setVmHost(svc.store.db, name, target.name).then(() => true));
    await ctx.progress(4, total, `dropping unneeded keys on ${source.name}`);
    await ctx.step('drop', async () => {
      const needed = (await svc.hosts.call<{ keys: KeyRef[] }>(source, 'GET', '/api/v1/needed-keys')).keys;
      const drop = plan.keys.filter((k) => !needed.some((n) => sameKey(n, k)));
      for (const k of drop) await dropKek(svc, source, k);
      return drop.length;
    });
    if (plan.wasOn) {
      await ctx.progress(5, total, `powering ${name} on on ${target.name}`);
      await ctx.step('power-on', () =>
        svc.hosts.call(target, 'POST', vmPath(name, '/power-on'), {}).then(() => true),
      );
    }
    return finish(ctx, target, name, plan.policy);
  },
};

// ---- clone ----------------------------------------------------------------------------------

interface ClonePlan {
  readonly host: string;
  readonly policy: string | null;
  readonly provider: string | null;
  readonly keys: KeyRef[];
}

/** The agent copies synchronously; a request that timed out is repeated (the agent joins the running copy). */
async function agentClone(
  ctx: TaskContext,
  host: HostRecord,
  source: string,
  body: Record<string, unknown>,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await ctx.svc.hosts.call(host, 'POST', vmPath(source, '/clone'), body);
      return;
    } catch (err) {
      const retry =
        err instanceof CenterError && err.code === 'host_unreachable' && attempt < 20 && !ctx.signal.aborted;
      if (!retry) throw err;
      await ctx.svc.hosts.call(host, 'GET', '/api/v1/info');
    }
  }
}

const clone: TaskKind = {
  kind: 'vm.clone',
  cancellable: false,
  async run(ctx, p) {
    const { svc } = ctx;
    const source = param(p, 'name');
    const name = param(p, 'newName');
    const newKeys = p['newKeys'] === true;
    const plan = await ctx.step<ClonePlan>('plan', async () => {
      const inv = await svc.vms.locate(source);
      if ((await svc.store.listVms()).some((v) => v.name === name))
        throw new CenterError('vm_exists', `VM ${name} exists`);
      const v = await agentVm(svc, await svc.store.getHost(inv.host), source);
      if (v.powerState !== 'poweredOff')
        throw new CenterError(
          'vm_power_state',
          `clone needs VM ${source} powered off (it is ${v.powerState})`,
        );
      if (v.cryptoState === 'locked')
        throw new CenterError('vm_crypto_state', `VM ${source} is locked; unlock it first`);
      if (newKeys && !v.encrypted)
        throw new CenterError('invalid_request', `VM ${source} is plain: --new-keys is for an encrypted VM`);
      return { host: inv.host, policy: inv.policy, provider: v.keyProviderId, keys: vmKeys(v) };
    });
    const host = await svc.store.getHost(plan.host);
    const kek = await ctx.step<KeyRef | null>('kek', async () => {
      if (!plan.provider) return null;
      const { provider, client } = await svc.providers.client(plan.provider);
      const keyId = await client.create({
        algorithm: 'AES',
        length: 256,
        usageMask: ['Encrypt', 'Decrypt'],
        name: `kek-${name}`,
      });
      await client.activate(keyId);
      return { keyProviderId: provider.name, keyId };
    });
    await ctx.progress(0, 2, `pushing keys to ${host.name}`);
    for (const k of [...plan.keys, ...(kek ? [kek] : [])]) await pushKek(svc, host, k);
    await ctx.progress(1, 2, `copying ${source} to ${name}${newKeys ? ' with new DEKs' : ''}`);
    await ctx.step('agent.clone', () =>
      agentClone(ctx, host, source, { name, target: kek, newKeys }).then(() => true),
    );
    await ctx.step('inventory', () => svc.store.addVm(name, host.name, plan.policy).then(() => true));
    return finish(ctx, host, name, plan.policy);
  },
};

// ---- shred ----------------------------------------------------------------------------------

interface ShredPlan {
  /** The VM's KEKs (its configuration's and its disks'), and every other VM's that shares one, transitively. */
  readonly keys: KeyRef[];
  readonly vms: { readonly name: string; readonly host: string }[];
  readonly policy: string | null;
}

/** Every VM of center's inventory with the KEKs it names; every host must answer. */
async function inventoryKeys(svc: CenterServices): Promise<{ name: string; host: string; keys: KeyRef[] }[]> {
  const out = [];
  for (const inv of await svc.store.listVms()) {
    let v: AgentVm;
    try {
      v = await agentVm(svc, await svc.store.getHost(inv.host), inv.name);
    } catch (err) {
      throw new CenterError(
        'host_unreachable',
        `cannot tell which keys VM ${inv.name} on host ${inv.host} uses, so no shred: ${(err as Error).message}`,
        { cause: err },
      );
    }
    out.push({ name: inv.name, host: inv.host, keys: vmKeys(v) });
  }
  return out;
}

/** The keys to destroy and the VMs under them: grown until no VM outside the set names one of the keys. */
async function shredPlan(svc: CenterServices, name: string, allSharing: boolean): Promise<ShredPlan> {
  const inv = await svc.vms.locate(name);
  const v = await agentVm(svc, await svc.store.getHost(inv.host), name);
  if (!v.encrypted || !v.keyId)
    throw new CenterError('vm_crypto_state', `VM ${name} is not encrypted: there is no key to shred`);
  if (v.pending)
    throw new CenterError(
      'vm_power_state',
      `VM ${name} has an unfinished ${v.pending}: unlock it so the conversion completes, then shred it`,
    );
  const all = await inventoryKeys(svc);
  const has = (list: readonly KeyRef[], k: KeyRef): boolean => list.some((q) => sameKey(q, k));
  const keys = vmKeys(v);
  let vms = all.filter((x) => x.keys.some((k) => has(keys, k)));
  for (let more = vms.flatMap((x) => x.keys).filter((k) => !has(keys, k)); more.length > 0;) {
    for (const k of more) if (!has(keys, k)) keys.push(k);
    vms = all.filter((x) => x.keys.some((k) => has(keys, k)));
    more = vms.flatMap((x) => x.keys).filter((k) => !has(keys, k));
  }
  const sharers = vms.filter((x) => x.name !== name).map((x) => x.name);
  if (sharers.length > 0 && !allSharing)
    throw new CenterError(
      'key_shared',
      `the key(s) ${keys.map((k) => k.keyId).join(', ')} of VM ${name} are shared with VM(s) ${sharers.join(', ')}; shred them all together with --all-sharing, or rekey them first`,
    );
  const placed = vms.map((x) => ({ name: x.name, host: x.host }));
  return {
    keys,
    vms: placed.some((x) => x.name === name) ? placed : [{ name, host: inv.host }, ...placed],
    policy: inv.policy,
  };
}

/** Every host drops the keys from memory; every host must answer. */
async function dropEverywhere(svc: CenterServices, keys: readonly KeyRef[]): Promise<string[]> {
  const hosts = await svc.store.listHosts();
  for (const h of hosts) for (const k of keys) await dropKek(svc, h, k);
  return hosts.map((h) => h.name);
}

/** KMIP Revoke (Cessation of Operation) then Destroy; a key revoked or destroyed by an earlier run is accepted. */
async function destroyKey(ctx: TaskContext, key: KeyRef, vm: string): Promise<void> {
  const { client } = await ctx.svc.providers.client(key.keyProviderId);
  await ctx.step(`revoke:${key.keyId}`, async () => {
    try {
      await client.revoke(key.keyId, 'CessationOfOperation', `crypto-shred of VM ${vm}`);
      return 'revoked';
    } catch (err) {
      if (!(err instanceof KmipError)) throw err;
      return err.code; // revoked already (a shred run again): Destroy decides
    }
  });
  await ctx.step(`destroy:${key.keyId}`, async () => {
    try {
      await client.destroy(key.keyId);
    } catch (err) {
      if (!(err instanceof KmipError && err.code === 'item_not_found')) throw err;
    }
    return true;
  });
}

const shred: TaskKind = {
  kind: 'vm.shred',
  cancellable: false,
  async run(ctx, p) {
    const { svc } = ctx;
    const name = param(p, 'name');
    const plan = await ctx.step<ShredPlan>('plan', () => shredPlan(svc, name, p['allSharing'] === true));
    const ids = plan.keys.map((k) => k.keyId).join(', ');
    const total = plan.vms.length + plan.keys.length + 2;
    let done = 0;
    for (const vm of plan.vms) {
      await ctx.progress(done++, total, `powering off ${vm.name} and erasing its keyslots`);
      const host = await svc.store.getHost(vm.host);
      await ctx.step(`agent.shred:${vm.name}`, () =>
        svc.hosts.call(host, 'POST', vmPath(vm.name, '/shred'), {}),
      );
    }
    await ctx.progress(done++, total, `every host drops key(s) ${ids}`);
    await ctx.step('drop', () => dropEverywhere(svc, plan.keys));
    for (const key of plan.keys) {
      await ctx.progress(done++, total, `revoking and destroying key ${key.keyId}`);
      await destroyKey(ctx, key, name);
      await svc.store.appendAudit({
        actor: ctx.task.actor,
        action: 'key.destroy',
        target: key.keyId,
        result: 'ok',
        detail: {
          keyProviderId: key.keyProviderId,
          reason: 'crypto-shred',
          vms: plan.vms.map((x) => x.name).join(','),
        },
      });
    }
    // A heartbeat may have pushed a key again between the first drop and its Destroy.
    await ctx.progress(done++, total, `every host drops key(s) ${ids} (after Destroy)`);
    await ctx.step('drop-after-destroy', () => dropEverywhere(svc, plan.keys));
    return finish(
      ctx,
      await svc.store.getHost(plan.vms.find((x) => x.name === name)?.host ?? ''),
      name,
      plan.policy,
    );
  },
};

export const MOVE_TASKS: readonly TaskKind[] = [migrate, clone, shred];
