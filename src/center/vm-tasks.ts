/**
 * The VM operations as durable task kinds (docs/center.md, "VM operations"). Each kind records
 * what it decided in steps (ctx.step), so a task resumed after a center restart neither makes a
 * second KEK nor repeats a finished agent call; the agent's encrypt, decrypt and rekey are
 * idempotent, so asking again for a conversion that is running or done waits for, or returns,
 * the same outcome. Keys follow DESIGN §2: a new KEK per VM is Created and Activated at the
 * policy's provider, only {keyProviderId, keyId} is kept, and the KEK is fetched, pushed to the
 * agent and zeroed (HostManager.pushKey). Privileges are checked by the routes (vm-routes.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CenterError, CenterRemoteError } from './errors.js';
import type { KeyRef } from './hosts.js';
import type { CenterServices } from './routes.js';
import type { HostRecord } from './store/index.js';
import { removeVm, setVmPolicy } from './store/vm-inventory.js';
import type { TaskContext, TaskKind } from './tasks.js';
import { agentVm, optParam, param, pushKek, vmKeys, vmPath } from './vm-task-helpers.js';
import { BUILTIN_POLICY, vmJson, type AgentVm, type VmJson } from './vms.js';

const POLL_MS = 500;


/** Checks that a policy exists (policy_not_found otherwise): policies.ts resolves it. */
export async function checkPolicy(svc: CenterServices, policy: string): Promise<void> {
  await svc.policies.resolve(policy);
}

interface Placed {
  readonly host: HostRecord;
  readonly policy: string | null;
}

async function place(svc: CenterServices, name: string): Promise<Placed> {
  const vm = await svc.vms.locate(name);
  return { host: await svc.store.getHost(vm.host), policy: vm.policy };
}

/** Creates and activates a new AES-256 KEK at the default provider (step 1 of DESIGN §2). */
async function newKek(svc: CenterServices, label: string): Promise<KeyRef> {
  const { provider, client } = await svc.providers.client();
  const keyId = await client.create({
    algorithm: 'AES',
    length: 256,
    usageMask: ['Encrypt', 'Decrypt'],
    name: label,
  });
  await client.activate(keyId);
  return { keyProviderId: provider.name, keyId };
}

function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * Orders a long agent operation (encrypt, decrypt, rekey) and reports the agent's progress while
 * it runs. The agent keeps converting if the connection drops (or center restarts); asking again
 * is idempotent, so a dropped or timed-out request is simply repeated while the agent answers.
 */
async function agentOperation(
  ctx: TaskContext,
  host: HostRecord,
  name: string,
  action: string,
  body: Record<string, unknown>,
): Promise<AgentVm> {
  const svc = ctx.svc;
  for (;;) {
    // The progress poll stops the moment the call returns: its sleep is aborted, not awaited.
    const stop = new AbortController();
    const poll = (async () => {
      for (;;) {
        await sleep(POLL_MS, undefined, { signal: stop.signal });
        const v = await agentVm(svc, host, name).catch(() => undefined);
        if (v?.operation && !stop.signal.aborted)
          await ctx.progress(v.operation.done, v.operation.total, `${v.operation.kind} ${name}`);
      }
    })();
    try {
      return await abortable(
        svc.hosts.call<AgentVm>(host, 'POST', vmPath(name, `/${action}`), body),
        ctx.signal,
      );
    } catch (err) {
      if (!(err instanceof CenterError && err.code === 'host_unreachable') || ctx.signal.aborted) throw err;
      // The request broke (a timeout while the agent converts): ask again if the agent answers.
      await agentVm(svc, host, name);
    } finally {
      stop.abort();
      await poll.catch(() => undefined);
    }
  }
}

/** The VM after an operation; a conversion's byte progress is completed. */
async function done(ctx: TaskContext, v: AgentVm, host: string, policy: string | null): Promise<VmJson> {
  const p = ctx.task.progress;
  if (p.total > 0) await ctx.progress(p.total, p.total, p.message ?? undefined);
  return vmJson(v, host, policy);
}

/** Refuses (with a clear error) a VM that is not powered off, for the operations that need it. */
function assertOff(v: AgentVm, op: string): void {
  if (v.powerState !== 'poweredOff')
    throw new CenterError('vm_power_state', `${op} needs VM ${v.name} powered off (it is ${v.powerState})`);
}

/**
 * Makes a VM on the agent; resumed after the agent made it (center died before recording the
 * step), the VM already there with the same KEK (or plain, as asked) counts as made.
 */
async function madeOnce(
  svc: CenterServices,
  host: HostRecord,
  name: string,
  kek: KeyRef | null,
  make: () => Promise<AgentVm>,
): Promise<AgentVm> {
  try {
    return await make();
  } catch (err) {
    if (!(err instanceof CenterRemoteError && err.code === 'vm_exists')) throw err;
    const existing = await agentVm(svc, host, name);
    if (existing.keyId !== (kek?.keyId ?? null) || existing.pending) throw err;
    return existing;
  }
}

const create: TaskKind = {
  kind: 'vm.create',
  cancellable: false,
  async run(ctx, p) {
    const { svc } = ctx;
    const name = param(p, 'name');
    const host = await svc.store.getHost(param(p, 'host'));
    const policy = optParam(p, 'policy');
    const disks = p['disks'];
    if (!Array.isArray(disks)) throw new CenterError('invalid_request', 'the task has no disk sizes');
    // The QEMU runtime spec (vm-routes.ts runtimeSpec), passed to the agent as is; null: none.
    const runtime = p['runtime'];
    const kek = policy ? await ctx.step('kek', () => svc.policies.kekFor(policy, name)) : null;
    if (kek) await pushKek(svc, host, kek);
    const v = await ctx.step('agent.create', () =>
      madeOnce(svc, host, name, kek, () =>
        svc.hosts.call<AgentVm>(host, 'POST', '/api/v1/vms', {
          name,
          disks,
          encryption: kek,
          ...(runtime && typeof runtime === 'object' ? { runtime } : {}),
        }),
      ),
    );
    await ctx.step('inventory', () => svc.store.addVm(name, host.name, policy).then(() => true));
    if (policy) await svc.policies.applyEscrow(vmJson(v, host.name, policy), policy);
    return done(ctx, v, host.name, policy);
  },
};

/** Encrypts a plain VM under a new KEK: shared by `vm encrypt` and `vm import --policy`. */
async function encryptExisting(ctx: TaskContext, name: string, policy: string): Promise<VmJson> {
  const { svc } = ctx;
  const { host } = await place(svc, name);
  await ctx.step('check', async () => {
    const v = await agentVm(svc, host, name);
    if (v.encrypted)
      throw new CenterError('vm_crypto_state', `VM ${name} is already encrypted (use vm rekey)`);
    assertOff(v, 'encrypt');
    return true;
  });
  const kek = await ctx.step('kek', () => svc.policies.kekFor(policy, name));
  await pushKek(svc, host, kek);
  const v = await agentOperation(ctx, host, name, 'encrypt', { ...kek });
  await setVmPolicy(svc.store.db, name, policy);
  await svc.policies.applyEscrow(vmJson(v, host.name, policy), policy);
  return done(ctx, v, host.name, policy);
}

const encrypt: TaskKind = {
  kind: 'vm.encrypt',
  cancellable: false,
  async run(ctx, p) {
    return encryptExisting(ctx, param(p, 'name'), optParam(p, 'policy') ?? BUILTIN_POLICY);
  },
};

const decrypt: TaskKind = {
  kind: 'vm.decrypt',
  cancellable: false,
  async run(ctx, p) {
    const { svc } = ctx;
    const name = param(p, 'name');
    const { host } = await place(svc, name);
    const keys = await ctx.step('check', async () => {
      const v = await agentVm(svc, host, name);
      if (!v.encrypted) throw new CenterError('vm_crypto_state', `VM ${name} is not encrypted`);
      assertOff(v, 'decrypt');
      return vmKeys(v);
    });
    for (const k of keys) await pushKek(svc, host, k);
    const v = await agentOperation(ctx, host, name, 'decrypt', {});
    await setVmPolicy(svc.store.db, name, null);
    return done(ctx, v, host.name, null);
  },
};

const rekey: TaskKind = {
  kind: 'vm.rekey',
  cancellable: false,
  async run(ctx, p) {
    const { svc } = ctx;
    const name = param(p, 'name');
    const deep = p['deep'] === true;
    const { host, policy } = await place(svc, name);
    let locked = true;
    const keys = await ctx.step('check', async () => {
      const v = await agentVm(svc, host, name);
      if (!v.encrypted) throw new CenterError('vm_crypto_state', `VM ${name} is not encrypted`);
      if (deep) assertOff(v, 'a deep rekey');
      locked = v.cryptoState !== 'unlocked';
      return vmKeys(v);
    });
    // The new KEK is the one the VM's policy gives (its provider; for a shared-scope policy its
    // shared KEK, rotated on its schedule); a VM under no policy gets one at the default provider.
    const kek = await ctx.step('kek', () =>
      policy ? svc.policies.kekFor(policy, name) : newKek(svc, `kek-${name}`),
    );
    // The VM's current KEKs are pushed only if the host lacks them (a locked VM, or a key the host
    // dropped meanwhile: the agent answers key_missing, and the rekey runs again after the push).
    await pushKek(svc, host, kek);
    if (locked) for (const k of keys) await pushKek(svc, host, k);
    const rekeyOnAgent = (): Promise<AgentVm> => agentOperation(ctx, host, name, 'rekey', { ...kek, deep });
    const v = await rekeyOnAgent().catch(async (err: unknown) => {
      if (!(err instanceof CenterRemoteError && err.code === 'key_missing')) throw err;
      for (const k of keys) await pushKek(svc, host, k);
      return rekeyOnAgent();
    });
    // A deep rekey writes new headers without the old escrow keyslots: the policy's come back.
    if (deep && policy) await ctx.step('escrow', () => svc.policies.applyEscrow(vmJson(v, host.name, policy), policy));
    return done(ctx, v, host.name, policy);
  },
};

const unlock: TaskKind = {
  kind: 'vm.unlock',
  // Safe to stop between two pushes: a key pushed is only a key cached on the host.
  cancellable: true,
  async run(ctx, p) {
    const { svc } = ctx;
    const name = param(p, 'name');
    const { host, policy } = await place(svc, name);
    const before = await agentVm(svc, host, name);
    const keys = vmKeys(before);
    for (let i = 0; i < keys.length; i++) {
      ctx.signal.throwIfAborted();
      await ctx.progress(0, 0, `pushing key ${i + 1} of ${keys.length}: ${keys[i]!.keyId}`);
      await pushKek(svc, host, keys[i]!);
    }
    const v = await agentVm(svc, host, name);
    if (v.cryptoState === 'locked')
      throw new CenterError('vm_crypto_state', `VM ${name} is still locked after its keys were pushed`);
    return done(ctx, v, host.name, policy);
  },
};

/** A power operation: one agent call (`resume` is a power-on of a suspended VM). */
function power(op: 'power-on' | 'power-off' | 'suspend' | 'resume' | 'snapshot'): TaskKind {
  return {
    kind: `vm.${op}`,
    cancellable: false,
    async run(ctx, p) {
      const { svc } = ctx;
      const name = param(p, 'name');
      const { host, policy } = await place(svc, name);
      if (op === 'resume') {
        const cur = await agentVm(svc, host, name);
        if (cur.powerState !== 'suspended')
          throw new CenterError(
            'vm_power_state',
            `resume needs VM ${name} suspended (it is ${cur.powerState})`,
          );
      }
      const v = await svc.hosts.call<AgentVm>(
        host,
        'POST',
        vmPath(name, `/${op === 'resume' ? 'power-on' : op}`),
        {},
      );
      return done(ctx, v, host.name, policy);
    },
  };
}

const register: TaskKind = {
  kind: 'vm.register',
  cancellable: false,
  async run(ctx, p) {
    const { svc } = ctx;
    const host = await svc.store.getHost(param(p, 'host'));
    const v = await ctx.step('agent.register', () =>
      svc.hosts.call<AgentVm>(host, 'POST', '/api/v1/vms/register', { path: param(p, 'path') }),
    );
    if ((await svc.store.listVms()).some((x) => x.name === v.name))
      throw new CenterError('vm_exists', `center already has a VM ${v.name}`);
    // A registered VM's policy is not known to center: an encrypted one gets the built-in policy.
    const policy = v.encrypted ? BUILTIN_POLICY : null;
    await svc.store.addVm(v.name, host.name, policy);
    return done(ctx, v, host.name, policy);
  },
};

const unregister: TaskKind = {
  kind: 'vm.unregister',
  cancellable: false,
  async run(ctx, p) {
    const { svc } = ctx;
    const name = param(p, 'name');
    const { host } = await place(svc, name);
    const r = await ctx.step('agent.unregister', () =>
      svc.hosts.call<{ name: string; path: string }>(host, 'POST', vmPath(name, '/unregister'), {}),
    );
    await removeVm(svc.store.db, name);
    return { name, host: host.name, path: r.path };
  },
};

const remove: TaskKind = {
  kind: 'vm.delete',
  cancellable: false,
  async run(ctx, p) {
    const { svc } = ctx;
    const name = param(p, 'name');
    const { host } = await place(svc, name);
    await ctx.step('agent.delete', async () => {
      try {
        return await svc.hosts.call<{ name: string }>(host, 'DELETE', vmPath(name));
      } catch (err) {
        if (err instanceof CenterRemoteError && err.code === 'vm_not_found') return { name };
        throw err;
      }
    });
    await removeVm(svc.store.db, name);
    return { name, host: host.name, deleted: true };
  },
};

const diskAdd: TaskKind = {
  kind: 'vm.disk.add',
  cancellable: false,
  async run(ctx, p) {
    const { svc } = ctx;
    const name = param(p, 'name');
    const { host, policy } = await place(svc, name);
    const keys = vmKeys(await agentVm(svc, host, name));
    for (const k of keys) await pushKek(svc, host, k);
    const v = await ctx.step('agent.disk.add', () =>
      svc.hosts.call<AgentVm>(host, 'POST', vmPath(name, '/disks'), { sizeBytes: p['sizeBytes'] }),
    );
    return done(ctx, v, host.name, policy);
  },
};

const diskGrow: TaskKind = {
  kind: 'vm.disk.grow',
  cancellable: false,
  async run(ctx, p) {
    const { svc } = ctx;
    const name = param(p, 'name');
    const { host, policy } = await place(svc, name);
    const v = await svc.hosts.call<AgentVm>(
      host,
      'POST',
      vmPath(name, `/disks/${encodeURIComponent(param(p, 'disk'))}/grow`),
      { sizeBytes: p['sizeBytes'] },
    );
    return done(ctx, v, host.name, policy);
  },
};

const importVm: TaskKind = {
  kind: 'vm.import',
  cancellable: false,
  async run(ctx, p) {
    const { svc } = ctx;
    const name = param(p, 'name');
    const host = await svc.store.getHost(param(p, 'host'));
    const policy = optParam(p, 'policy');
    const source = optParam(p, 'raw') !== null ? { raw: param(p, 'raw') } : { vmdk: param(p, 'vmdk') };
    await ctx.step('agent.import', () =>
      madeOnce(svc, host, name, null, () =>
        svc.hosts.call<AgentVm>(host, 'POST', '/api/v1/vms/import', { name, ...source, encryption: null }),
      ),
    );
    await ctx.step('inventory', () => svc.store.addVm(name, host.name, null).then(() => true));
    if (policy) return encryptExisting(ctx, name, policy);
    return done(ctx, await agentVm(svc, host, name), host.name, null);
  },
};

export const VM_TASKS: readonly TaskKind[] = [
  create,
  importVm,
  encrypt,
  decrypt,
  rekey,
  unlock,
  power('power-on'),
  power('power-off'),
  power('suspend'),
  power('resume'),
  power('snapshot'),
  register,
  unregister,
  remove,
  diskAdd,
  diskGrow,
];
