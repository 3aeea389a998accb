/** The policy routes of center's API (docs/center.md, "Policies"). */
import { audited } from './auth.js';
import { CenterError } from './errors.js';
import type { GroupTarget, Policy, PolicyInput } from './policies.js';
import type { RequestContext, Route } from './routes.js';
import { NAME_PATTERN, type BodySchema } from './validate.js';

/** Policy names may hold spaces, as the built-in `VM Encryption Policy` does. */
export const POLICY_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,63}$/;
const FOLDER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@/-]{0,127}$/;

const FIELDS: BodySchema = {
  keyProvider: { type: 'string', pattern: NAME_PATTERN, max: 64 },
  encrypt: { type: 'string', max: 64 },
  keyScope: { type: 'string', oneOf: ['vm', 'shared'] },
  escrow: { type: 'string', oneOf: ['none', 'generate', 'passphrase'] },
  escrowPassphrase: { type: 'string', min: 8, max: 512 },
  rotateDays: { type: 'number', min: 0, max: 3650 },
};

const TARGET: BodySchema = {
  vm: { type: 'string', pattern: NAME_PATTERN, max: 64 },
  folder: { type: 'string', pattern: FOLDER_PATTERN, max: 128 },
  tag: { type: 'string', pattern: NAME_PATTERN, max: 64 },
};

const name = (c: RequestContext): string => c.params['name']!;

/** A policy with what it is assigned to (VMs directly, folders, tags). */
async function detail(c: RequestContext, p: Policy): Promise<Record<string, unknown>> {
  const { assignments } = await c.svc.policies.assignments();
  const vms = (await c.svc.store.listVms()).filter((v) => v.policy === p.name).map((v) => v.name);
  const of = (kind: string): string[] => assignments.filter((a) => a.kind === kind && a.policy === p.name).map((a) => a.target);
  return { ...p, assigned: { vms, folders: of('folder'), tags: of('tag') } };
}

export const POLICY_ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: '/api/v1/policies',
    summary: 'list encryption policies (the built-in one first)',
    privilege: 'System.Read',
    handler: async (c) => c.svc.policies.list(),
  },
  {
    method: 'POST',
    path: '/api/v1/policies',
    summary: 'create an encryption policy (an escrow passphrase goes to the key provider as Secret Data)',
    privilege: 'Cryptographer.ManageEncryptionPolicy',
    body: { name: { type: 'string', required: true, pattern: POLICY_NAME_PATTERN, max: 64 }, ...FIELDS },
    handler: async (c) => {
      const { name: n, ...input } = c.body as unknown as PolicyInput & { name: string };
      return audited(c, 'policy.create', n, () => c.svc.policies.create(n, input));
    },
  },
  {
    method: 'POST',
    path: '/api/v1/policies/reconcile',
    summary: 'bring every VM to its policy now: starts tasks, reports per VM what it did or could not do',
    privilege: 'Cryptographer.ManageEncryptionPolicy',
    handler: async (c) => audited(c, 'policy.reconcile', '*', () => c.svc.policies.reconcile(c.principal.user)),
  },
  {
    method: 'POST',
    path: '/api/v1/policies/unassign',
    summary: 'remove the policy of a VM, folder or tag (one of "vm", "folder", "tag")',
    privilege: 'Cryptographer.ManageEncryptionPolicy',
    body: TARGET,
    handler: async (c) => {
      const t = c.body as GroupTarget;
      return audited(c, 'policy.unassign', t.vm ?? t.folder ?? t.tag ?? '-', () => c.svc.policies.unassign(t));
    },
  },
  {
    method: 'GET',
    path: '/api/v1/policies/{name}',
    summary: 'show a policy, what it is assigned to, and the compliance of its VMs',
    privilege: 'System.Read',
    handler: async (c) => {
      const p = await c.svc.policies.resolve(name(c));
      const compliance = (await c.svc.policies.compliance((n) => c.svc.vms.show(n))).filter((v) => v.policy === p.name);
      return { ...(await detail(c, p)), compliance };
    },
  },
  {
    method: 'PUT',
    path: '/api/v1/policies/{name}',
    summary: 'change a policy (the built-in one is read-only); keyProvider "default" follows the default provider',
    privilege: 'Cryptographer.ManageEncryptionPolicy',
    body: FIELDS,
    handler: async (c) => audited(c, 'policy.edit', name(c), () => c.svc.policies.edit(name(c), c.body as PolicyInput)),
  },
  {
    method: 'POST',
    path: '/api/v1/policies/{name}/assign',
    summary: 'assign a policy to a VM, a folder or a tag (one of "vm", "folder", "tag")',
    privilege: 'Cryptographer.ManageEncryptionPolicy',
    body: TARGET,
    handler: async (c) => {
      const t = c.body as GroupTarget;
      return audited(c, 'policy.assign', name(c), () => c.svc.policies.assign(name(c), t));
    },
  },
  {
    method: 'GET',
    path: '/api/v1/compliance',
    summary: 'policy compliance of every VM (compliant, or the reasons it is not)',
    privilege: 'System.Read',
    handler: async (c) => c.svc.policies.compliance((n) => c.svc.vms.show(n)),
  },
  {
    method: 'PUT',
    path: '/api/v1/vm-groups/{name}',
    summary: "set a VM's folder and tags (the groups policies are assigned to); tags comma-separated",
    privilege: 'VirtualMachine.Inventory',
    body: { folder: { type: 'string', pattern: FOLDER_PATTERN, max: 128 }, tags: { type: 'string', max: 1024 } },
    handler: async (c) => {
      const b = c.body as { folder?: string; tags?: string };
      const tags = (b.tags ?? '').split(',').map((t) => t.trim()).filter(Boolean);
      const bad = tags.find((t) => !NAME_PATTERN.test(t));
      if (bad !== undefined || tags.length > 32)
        throw new CenterError('invalid_request', '"tags" is up to 32 names of letters, digits and ._@-, separated by commas');
      return audited(c, 'vm.groups', name(c), () => c.svc.policies.setGroups(name(c), { folder: b.folder ?? null, tags }));
    },
  },
];
