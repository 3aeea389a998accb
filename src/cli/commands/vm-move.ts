/**
 * `cryptvisor vm migrate NAME --to H | vm clone NAME NEW [--new-keys] | vm shred NAME --yes
 * [--all-sharing]` through center's tasks (DESIGN.md §10; docs/center.md, "Migrate, clone, shred").
 */
import { CommonError } from '../../common/errors.js';
import type { VmJson } from '../../center/index.js';
import { flag, pos, str, type CommandSpec } from '../command.js';
import { DATA_OPTION, remote } from './login.js';
import { NO_WAIT, runTask } from './task.js';

const vmPath = (name: string | undefined, action: string): string =>
  `/api/v1/vms/${encodeURIComponent(name ?? '')}/${action}`;

/** One line for the VM a task left behind; a task ID (`--no-wait`) is printed as it is. */
function human(r: unknown): string {
  if (typeof r !== 'object' || r === null || !('powerState' in r))
    return typeof r === 'string' ? r : JSON.stringify(r);
  const v = r as VmJson;
  return `VM ${v.name} on ${v.host}: ${v.powerState}, ${v.cryptoState}, ${v.encrypted ? `encrypted (${v.keyProviderId}/${v.keyId})` : 'plain'}`;
}

export const VM_MOVE_COMMANDS: readonly CommandSpec[] = [
  {
    path: ['vm', 'migrate'],
    summary:
      'migrate a VM to another host sharing the datastore (a powered-on VM is powered off, moved, powered on)',
    positionals: [{ name: 'name', required: true }],
    options: [
      { name: 'to', type: 'string', required: true, help: 'the target host', valueName: 'H' },
      NO_WAIT,
      DATA_OPTION,
    ],
    async run(ctx) {
      const name = pos(ctx.args, 'name');
      return runTask(ctx, await remote(ctx), 'POST', vmPath(name, 'migrate'), { to: str(ctx.args, 'to') });
    },
    human,
  },
  {
    path: ['vm', 'clone'],
    summary: 'clone a powered-off VM under its own new KEK (--new-keys: new DEKs too, the copy re-encrypted)',
    positionals: [
      { name: 'name', required: true },
      { name: 'new', required: true },
    ],
    options: [
      { name: 'new-keys', type: 'boolean', help: 'new DEKs: re-encrypt the copy' },
      NO_WAIT,
      DATA_OPTION,
    ],
    async run(ctx) {
      return runTask(ctx, await remote(ctx), 'POST', vmPath(pos(ctx.args, 'name'), 'clone'), {
        name: pos(ctx.args, 'new'),
        newKeys: flag(ctx.args, 'new-keys'),
      });
    },
    human,
  },
  {
    path: ['vm', 'shred'],
    summary:
      'crypto-shred a VM: its KEK dropped everywhere, escrow keyslots erased, the KEK revoked and destroyed',
    positionals: [{ name: 'name', required: true }],
    options: [
      { name: 'yes', type: 'boolean', help: 'confirm: the VM can never be read again' },
      { name: 'all-sharing', type: 'boolean', help: 'also shred every VM that shares the KEK' },
      NO_WAIT,
      DATA_OPTION,
    ],
    async run(ctx) {
      if (!flag(ctx.args, 'yes'))
        throw new CommonError('usage', "shred destroys the VM's key for good: confirm with --yes");
      return runTask(ctx, await remote(ctx), 'POST', vmPath(pos(ctx.args, 'name'), 'shred'), {
        allSharing: flag(ctx.args, 'all-sharing'),
      });
    },
    human,
  },
];
