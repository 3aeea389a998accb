/** The VM routes of center's API (docs/center.md, "VMs"). */
import { audited } from './auth.js';
import { CenterError } from './errors.js';
import type { RequestContext, Route } from './routes.js';
import { NAME_PATTERN } from './validate.js';

const name = (c: RequestContext): string => c.params['name']!;

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
    summary: 'create a VM on a host, encrypted under a policy (a new KEK) or plain',
    privilege: 'VirtualMachine.Inventory',
    body: {
      name: { type: 'string', required: true, pattern: NAME_PATTERN, max: 64 },
      host: { type: 'string', required: true, pattern: NAME_PATTERN, max: 64 },
      disks: { type: 'string', required: true, max: 1024 },
      policy: { type: 'string', max: 128 },
    },
    handler: async (c) => {
      const b = c.body as { name: string; host: string; disks: string; policy?: string };
      const disks = diskSizes(b.disks);
      if (b.policy !== undefined)
        await c.svc.auth.authorize(c.principal, 'Cryptographer.EncryptNew', 'vm.create', b.name);
      return audited(c, b.policy ? 'vm.create.encrypted' : 'vm.create', b.name, () =>
        c.svc.vms.create(b.name, b.host, disks, b.policy ?? null),
      );
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
    method: 'POST',
    path: '/api/v1/vms/{name}/power-on',
    summary: 'power a VM on (a locked VM fails with the missing key ID)',
    privilege: 'VirtualMachine.PowerOps',
    handler: async (c) => audited(c, 'vm.power-on', name(c), () => c.svc.vms.power(name(c), 'power-on')),
  },
  {
    method: 'POST',
    path: '/api/v1/vms/{name}/power-off',
    summary: 'power a VM off',
    privilege: 'VirtualMachine.PowerOps',
    handler: async (c) => audited(c, 'vm.power-off', name(c), () => c.svc.vms.power(name(c), 'power-off')),
  },
];
