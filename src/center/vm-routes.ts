/**
 * The VM routes of center's API (docs/center.md, "VM operations"). Reads answer at once; every
 * operation starts a durable task (vm-tasks.ts) and answers 202 with its TaskRecord. The route's
 * privilege is checked by the dispatcher; a handler checks the extra cryptographic privilege an
 * operation needs (an encrypted VM) before the task starts, and checks the VM and host exist so
 * those errors come at once.
 */
import { CommonError } from '../common/errors.js';
import { CenterError } from './errors.js';
import type { Privilege } from './privileges.js';
import type { RequestContext, Route } from './routes.js';
import type { TaskRecord } from './tasks.js';
import { NAME_PATTERN, type BodySchema } from './validate.js';
import { checkPolicy } from './vm-tasks.js';

const name = (c: RequestContext): string => c.params['name']!;
const NAME = { type: 'string', required: true, pattern: NAME_PATTERN, max: 64 } as const;
const POLICY = { type: 'string', max: 128 } as const;
const SIZE = { type: 'number', required: true, min: 4096, max: 2 ** 50 } as const;
/** A path on the host: absolute, no commas (QEMU's option syntax) nor control characters. */
const HOST_PATH = { type: 'string', max: 4096, pattern: /^\/[^,\0-\x1f]*$/ } as const;

/**
 * The runtime fields of POST /api/v1/vms (extras beyond DESIGN §10): the agent's `runtime` spec
 * (docs/agent.md, "VM runtime"), which the agent checks again. Limits match the agent's.
 */
const RUNTIME_BODY = {
  qemu: { type: 'boolean' },
  kernel: HOST_PATH,
  initrd: HOST_PATH,
  append: { type: 'string', max: 4096, pattern: /^[^\0\n\r]*$/ },
  memoryMiB: { type: 'number', min: 1, max: 1024 * 1024 },
  cpus: { type: 'number', min: 1, max: 256 },
} as const;

type RuntimeBody = Partial<{
  qemu: boolean;
  kernel: string;
  initrd: string;
  append: string;
  memoryMiB: number;
  cpus: number;
}>;

/** The agent's runtime spec from the body, or null when the body asks for none. */
export function runtimeSpec(b: RuntimeBody): Record<string, unknown> | null {
  const given = Object.keys(RUNTIME_BODY).filter((k) => b[k as keyof RuntimeBody] !== undefined);
  if (given.length === 0) return null;
  if (b.qemu !== true)
    throw new CenterError(
      'invalid_request',
      `the runtime fields (${given.map((k) => `"${k}"`).join(', ')}) need "qemu": true`,
    );
  if (b.kernel === undefined)
    throw new CenterError('invalid_request', '"qemu": true needs "kernel" (direct kernel boot)');
  return Object.fromEntries(given.map((k) => [k, b[k as keyof RuntimeBody]]));
}

function diskSizes(list: string): number[] {
  const sizes = list.split(',').map((s) => Number(s.trim()));
  if (
    sizes.length === 0 ||
    sizes.length > 16 ||
    !sizes.every((n) => Number.isSafeInteger(n) && n > 0 && n % 4096 === 0)
  ) {
    throw new CenterError(
      'invalid_request',
      '"disks" is 1 to 16 sizes in bytes, each a positive multiple of 4096, separated by commas',
    );
  }
  return sizes;
}

/** Checks the extra privileges, then starts the task (audited by the task service). */
async function startTask(
  c: RequestContext,
  kind: string,
  target: string,
  params: Record<string, unknown>,
  extra: readonly Privilege[] = [],
): Promise<TaskRecord> {
  for (const p of extra) await c.svc.auth.authorize(c.principal, p, kind, target);
  return c.svc.tasks.start(kind, params, { actor: c.principal.user, target });
}

/** A POST /api/v1/vms/{name}/ACTION route that starts the task `vm.ACTION` on an existing VM. */
function vmOperation(
  action: string,
  summary: string,
  privilege: Privilege,
  body?: BodySchema,
  params: (c: RequestContext) => Record<string, unknown> | Promise<Record<string, unknown>> = () => ({}),
): Route {
  return {
    method: 'POST',
    path: `/api/v1/vms/{name}/${action}`,
    summary,
    privilege,
    status: 202,
    ...(body ? { body } : {}),
    handler: async (c) => {
      await c.svc.vms.locate(name(c));
      return startTask(c, `vm.${action}`, name(c), { name: name(c), ...(await params(c)) });
    },
  };
}

async function newVmChecks(
  c: RequestContext,
  vm: string,
  host: string,
  policy: string | undefined,
): Promise<void> {
  if (policy !== undefined) await checkPolicy(c.svc, policy);
  await c.svc.store.getHost(host);
  if ((await c.svc.store.listVms()).some((v) => v.name === vm))
    throw new CenterError('vm_exists', `VM ${vm} exists`);
}

export const VM_ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: '/api/v1/vms',
    summary: 'list VMs (DESIGN §10 shape)',
    privilege: 'System.Read',
    handler: async (c) => c.svc.vms.list(),
  },
  {
    method: 'POST',
    path: '/api/v1/vms',
    summary:
      'create a VM on a host, encrypted under a policy (a new KEK) or plain; optionally with the QEMU runtime (task)',
    privilege: 'VirtualMachine.Inventory',
    status: 202,
    body: {
      name: NAME,
      host: NAME,
      disks: { type: 'string', required: true, max: 1024 },
      policy: POLICY,
      ...RUNTIME_BODY,
    },
    handler: async (c) => {
      const b = c.body as { name: string; host: string; disks: string; policy?: string } & RuntimeBody;
      const disks = diskSizes(b.disks);
      const runtime = runtimeSpec(b);
      await newVmChecks(c, b.name, b.host, b.policy);
      return startTask(
        c,
        'vm.create',
        b.name,
        { name: b.name, host: b.host, disks, policy: b.policy ?? null, runtime },
        b.policy !== undefined ? ['Cryptographer.EncryptNew'] : [],
      );
    },
  },
  {
    method: 'POST',
    path: '/api/v1/vms/import',
    summary:
      "import a VM from a raw image or a VMDK monolithicFlat descriptor on the host's file system (task)",
    privilege: 'VirtualMachine.Inventory',
    status: 202,
    body: {
      name: NAME,
      host: NAME,
      raw: { type: 'string', max: 4096 },
      vmdk: { type: 'string', max: 4096 },
      policy: POLICY,
    },
    handler: async (c) => {
      const b = c.body as { name: string; host: string; raw?: string; vmdk?: string; policy?: string };
      if ((b.raw === undefined) === (b.vmdk === undefined))
        throw new CenterError('invalid_request', 'give exactly one of "raw" or "vmdk"');
      await newVmChecks(c, b.name, b.host, b.policy);
      return startTask(
        c,
        'vm.import',
        b.name,
        { name: b.name, host: b.host, raw: b.raw ?? null, vmdk: b.vmdk ?? null, policy: b.policy ?? null },
        b.policy !== undefined ? ['Cryptographer.EncryptNew'] : [],
      );
    },
  },
  {
    method: 'POST',
    path: '/api/v1/vms/register',
    summary: "register a VM folder of a host's datastore (task)",
    privilege: 'Cryptographer.RegisterVM',
    status: 202,
    body: { path: { type: 'string', required: true, max: 4096 }, host: NAME },
    handler: async (c) => {
      const b = c.body as { path: string; host: string };
      await c.svc.store.getHost(b.host);
      return startTask(c, 'vm.register', b.path, { path: b.path, host: b.host }, [
        'VirtualMachine.Inventory',
      ]);
    },
  },
  {
    method: 'GET',
    path: '/api/v1/vms/{name}',
    summary: 'show a VM (DESIGN §10 shape)',
    privilege: 'System.Read',
    handler: async (c) => c.svc.vms.show(name(c)),
  },
  {
    method: 'DELETE',
    path: '/api/v1/vms/{name}',
    summary: 'delete a powered-off VM and its files (task)',
    privilege: 'VirtualMachine.Inventory',
    status: 202,
    handler: async (c) => {
      await c.svc.vms.locate(name(c));
      return startTask(c, 'vm.delete', name(c), { name: name(c) });
    },
  },
  vmOperation(
    'encrypt',
    'encrypt a powered-off plain VM, home and disks, under a policy (task)',
    'Cryptographer.Encrypt',
    {
      policy: POLICY,
    },
    async (c) => {
      const policy = (c.body as { policy?: string }).policy;
      if (policy !== undefined) await checkPolicy(c.svc, policy);
      return { policy: policy ?? null };
    },
  ),
  vmOperation('decrypt', 'decrypt a powered-off encrypted VM (task)', 'Cryptographer.Decrypt'),
  vmOperation(
    'rekey',
    'shallow rekey (new KEK, DEKs re-wrapped; also while on) or deep rekey (new DEKs, powered off) (task)',
    'Cryptographer.Recrypt',
    { deep: { type: 'boolean' } },
    (c) => ({ deep: (c.body as { deep?: boolean }).deep === true }),
  ),
  vmOperation('unlock', "push the VM's KEKs to its host, each fetched once (task)", 'Cryptographer.Access'),
  vmOperation(
    'power-on',
    'power a VM on (a locked VM fails with the missing key ID) (task)',
    'VirtualMachine.PowerOps',
  ),
  vmOperation('power-off', 'power a VM off (task)', 'VirtualMachine.PowerOps'),
  vmOperation(
    'suspend',
    'suspend a running VM: its state sealed on the datastore (task)',
    'VirtualMachine.PowerOps',
  ),
  vmOperation('resume', 'resume a suspended VM (task)', 'VirtualMachine.PowerOps'),
  vmOperation(
    'snapshot',
    'snapshot a running VM: its state sealed on the datastore (task)',
    'VirtualMachine.PowerOps',
  ),
  {
    method: 'POST',
    path: '/api/v1/vms/{name}/revert',
    summary: 'revert a VM to a snapshot: not supported (snapshots hold memory and device state, not disks)',
    privilege: 'VirtualMachine.PowerOps',
    body: { snapshot: { type: 'string', required: true, max: 128 } },
    handler: async (c) => {
      await c.svc.vms.locate(name(c));
      throw new CommonError(
        'not_supported',
        `reverting VM ${name(c)} to a snapshot is not supported: a snapshot holds memory and device state only, and the disks have changed since`,
      );
    },
  },
  vmOperation(
    'unregister',
    'unregister a VM from its host; its folder stays on the datastore (task)',
    'VirtualMachine.Inventory',
  ),
  {
    method: 'POST',
    path: '/api/v1/vms/{name}/disks',
    summary: 'add a disk to a powered-off VM (an encrypted VM also needs Cryptographer.AddDisk) (task)',
    privilege: 'VirtualMachine.Inventory',
    status: 202,
    body: { sizeBytes: SIZE },
    handler: async (c) => {
      const vm = await c.svc.vms.locate(name(c));
      const sizeBytes = (c.body as { sizeBytes: number }).sizeBytes;
      return startTask(
        c,
        'vm.disk.add',
        name(c),
        { name: name(c), sizeBytes },
        vm.policy ? ['Cryptographer.AddDisk'] : [],
      );
    },
  },
  {
    method: 'POST',
    path: '/api/v1/vms/{name}/disks/{disk}/grow',
    summary: 'grow a disk of a powered-off VM (task)',
    privilege: 'VirtualMachine.Inventory',
    status: 202,
    body: { sizeBytes: SIZE },
    handler: async (c) => {
      await c.svc.vms.locate(name(c));
      const sizeBytes = (c.body as { sizeBytes: number }).sizeBytes;
      return startTask(c, 'vm.disk.grow', name(c), { name: name(c), disk: c.params['disk']!, sizeBytes });
    },
  },
];
