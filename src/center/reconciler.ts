/**
 * The policy reconciler (DESIGN.md §7): brings every VM to its policy through durable tasks, and
 * says per VM what it did and what it could not do. Per non-compliant VM, one task at a time:
 * - not encrypted: `vm.encrypt` with the policy, only when the VM is powered off and unlocked;
 * - KEK at another provider, not the policy's shared KEK, shared against a per-VM policy, or
 *   older than the rotation period: `policy.rekey` (a shallow rekey to the KEK the policy gives);
 * - disks without an escrow keyslot for the policy's passphrase, or with one the policy does not
 *   have: `policy.escrow`.
 * It runs every RECONCILE_INTERVAL_MS and on demand (`POST /api/v1/policies/reconcile`).
 */
import type { Logger } from '../common/logging.js';
import { CenterError } from './errors.js';
import type { Compliance, PolicyAction } from './policies.js';
import type { CenterServices } from './routes.js';
import type { TaskContext, TaskKind } from './tasks.js';
import { keyPath, param } from './vm-task-helpers.js';

export const RECONCILE_INTERVAL_MS = 5 * 60_000;
/** The actor of tasks the periodic run starts. */
export const RECONCILER_ACTOR = 'reconciler';

export interface ReconcileEntry extends Compliance {
  /** The action started, if any. */
  readonly started: PolicyAction | null;
  readonly taskId: string | null;
  /** Why nothing was started for a non-compliant VM. */
  readonly skipped: string | null;
}

export interface ReconcileReport {
  readonly at: string;
  readonly vms: readonly ReconcileEntry[];
}

const TASK_OF: Readonly<Record<PolicyAction, string>> = {
  encrypt: 'vm.encrypt',
  rekey: 'policy.rekey',
  escrow: 'policy.escrow',
};

/** Shallow rekey of a VM to the KEK its policy gives (a new one, or the policy's shared one). */
const POLICY_REKEY: TaskKind = {
  kind: 'policy.rekey',
  cancellable: false,
  async run(ctx: TaskContext, params) {
    const { svc } = ctx;
    const name = param(params, 'name');
    const policy = param(params, 'policy');
    const vm = await svc.vms.show(name);
    if (!vm.encrypted) throw new CenterError('invalid_request', `VM ${name} is not encrypted`);
    const key = await ctx.step('kek', () => svc.policies.kekFor(policy, name));
    await ctx.progress(1, 3, `KEK ${key.keyId} ready`);
    const host = await svc.store.getHost(vm.host);
    await svc.hosts.pushKey(host, key, 'PUT', keyPath(key), {});
    await ctx.progress(2, 3, `rekeying ${name}`);
    await svc.hosts.call(host, 'POST', `/api/v1/vms/${encodeURIComponent(name)}/rekey`, { ...key });
    await svc.policies.store.keySince(name, key);
    await ctx.progress(3, 3);
    return svc.vms.show(name);
  },
};

/** Gives each disk of a VM the escrow keyslot of its policy's passphrase, or wipes them when it has none. */
const POLICY_ESCROW: TaskKind = {
  kind: 'policy.escrow',
  cancellable: false,
  async run(ctx: TaskContext, params) {
    const { svc } = ctx;
    const name = param(params, 'name');
    const vm = await svc.vms.show(name);
    await ctx.progress(0, 1, `escrow keyslots of ${name}`);
    const policy = await svc.policies.resolve(param(params, 'policy'));
    if (policy.escrow) await svc.policies.applyEscrow(vm, policy.name);
    else await svc.policies.clearEscrow(vm);
    await ctx.progress(1, 1);
    return svc.vms.show(name);
  },
};

export const POLICY_TASKS: readonly TaskKind[] = [POLICY_REKEY, POLICY_ESCROW];

/** Why an action cannot start now, or null. */
function blocker(c: Compliance, action: PolicyAction): string | null {
  if (c.cryptoState === 'locked') return 'the VM is locked (its KEK is not on its host)';
  if (action === 'encrypt' && c.powerState !== 'poweredOff')
    return `encrypting needs the VM powered off (it is ${c.powerState})`;
  return null;
}

export class Reconciler {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;

  constructor(
    private readonly svc: CenterServices,
    private readonly logger: Logger,
  ) {}

  /** One pass over every VM; `actor` is who asked (recorded on the tasks it starts). */
  async run(actor: string): Promise<ReconcileReport> {
    const { svc } = this;
    const vms: ReconcileEntry[] = [];
    for (const c of await svc.policies.compliance((n) => svc.vms.show(n))) {
      const action = c.actions[0];
      if (c.compliant || !action) {
        vms.push({ ...c, started: null, taskId: null, skipped: c.compliant ? null : 'nothing the reconciler can do' });
        continue;
      }
      const busy = [
        ...(await svc.tasks.list({ target: c.vm, state: 'running' })),
        ...(await svc.tasks.list({ target: c.vm, state: 'queued' })),
      ];
      const why = busy.length > 0 ? `task ${busy[0]!.id} (${busy[0]!.kind}) is still running` : blocker(c, action);
      if (why) {
        vms.push({ ...c, started: null, taskId: null, skipped: why });
        continue;
      }
      try {
        const t = await svc.tasks.start(TASK_OF[action], { name: c.vm, policy: c.policy }, { actor, target: c.vm });
        vms.push({ ...c, started: action, taskId: t.id, skipped: null });
      } catch (err) {
        vms.push({ ...c, started: null, taskId: null, skipped: `starting ${TASK_OF[action]} failed: ${(err as Error).message}` });
      }
    }
    const started = vms.filter((v) => v.taskId).length;
    if (started > 0 || vms.some((v) => v.skipped)) {
      this.logger.info({ vms: vms.length, started, skipped: vms.filter((v) => v.skipped).length }, 'policies reconciled');
    }
    return { at: new Date().toISOString(), vms };
  }

  /** Runs every intervalMs (never two passes at once). */
  start(intervalMs: number = RECONCILE_INTERVAL_MS): void {
    this.#timer = setInterval(() => {
      if (this.#running) return;
      this.#running = this.run(RECONCILER_ACTOR)
        .catch((err: unknown) => this.logger.warn({ err: (err as Error).message }, 'policy reconcile failed'))
        .finally(() => (this.#running = undefined));
    }, intervalMs);
    this.#timer.unref();
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#running;
  }
}
