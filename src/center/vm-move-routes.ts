/**
 * Routes that start migrate, clone and crypto-shred tasks (docs/center.md, "Migrate, clone,
 * shred"): each answers 202 with the task record. An unknown VM is refused at once (404).
 */
import type { RequestContext, Route } from './routes.js';
import { NAME_PATTERN } from './validate.js';

const vmName = (c: RequestContext): string => c.params['name']!;

async function startTask(c: RequestContext, kind: string, params: Record<string, unknown>): Promise<unknown> {
  const name = vmName(c);
  await c.svc.vms.locate(name);
  return c.svc.tasks.start(kind, { name, ...params }, { actor: c.principal.user, target: name });
}

export const VM_MOVE_ROUTES: readonly Route[] = [
  {
    method: 'POST',
    path: '/api/v1/vms/{name}/migrate',
    summary:
      'migrate a VM to another host on the shared datastore (its keys go along; data stays ciphertext)',
    privilege: 'Cryptographer.Migrate',
    status: 202,
    body: { to: { type: 'string', required: true, pattern: NAME_PATTERN, max: 64 } },
    handler: async (c) => startTask(c, 'vm.migrate', { to: (c.body as { to: string }).to }),
  },
  {
    method: 'POST',
    path: '/api/v1/vms/{name}/clone',
    summary: 'clone a powered-off VM under its own new KEK (newKeys: also new DEKs, the copy re-encrypted)',
    privilege: 'Cryptographer.Clone',
    status: 202,
    body: {
      name: { type: 'string', required: true, pattern: NAME_PATTERN, max: 64 },
      newKeys: { type: 'boolean' },
    },
    handler: async (c) => {
      const b = c.body as { name: string; newKeys?: boolean };
      return startTask(c, 'vm.clone', { newName: b.name, newKeys: b.newKeys === true });
    },
  },
  {
    method: 'POST',
    path: '/api/v1/vms/{name}/shred',
    summary:
      'crypto-shred a VM: power off, every host drops the KEK, keyslots erased, KEK revoked and destroyed (allSharing: with every VM sharing the KEK)',
    privilege: 'Cryptographer.ManageKeys',
    status: 202,
    body: { allSharing: { type: 'boolean' } },
    handler: async (c) =>
      startTask(c, 'vm.shred', { allSharing: (c.body as { allSharing?: boolean }).allSharing === true }),
  },
];
