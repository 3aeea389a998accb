/** `cryptvisor vm create|list|show|power-on|power-off` through center (DESIGN.md §10, docs/center.md). */
import { CommonError } from '../../common/errors.js';
import { parseSize } from '../../common/size.js';
import type { VmJson } from '../../center/index.js';
import { flag, pos, str, strs, type CommandSpec } from '../command.js';
import { DATA_OPTION, remote, table } from './login.js';

const path = (name: string | undefined, rest = ''): string =>
  `/api/v1/vms/${encodeURIComponent(name ?? '')}${rest}`;
const show = (v: VmJson): string =>
  [
    `VM ${v.name} (${v.uuid}) on ${v.host}: ${v.powerState}, ${v.cryptoState}, ${v.encrypted ? `encrypted (${v.keyProviderId}/${v.keyId})` : 'plain'}`,
    ...v.disks.map(
      (d) => `  disk ${d.id}: ${d.sizeBytes} bytes ${d.extentPath}${d.nbdUri ? ` ${d.nbdUri}` : ''}`,
    ),
  ].join('\n');

function power(action: 'power-on' | 'power-off'): CommandSpec {
  return {
    path: ['vm', action],
    summary: action === 'power-on' ? 'power a VM on' : 'power a VM off',
    positionals: [{ name: 'name', required: true }],
    options: [DATA_OPTION],
    async run(ctx) {
      return (await remote(ctx)).call<VmJson>('POST', path(pos(ctx.args, 'name'), `/${action}`));
    },
    human: (r) => show(r as VmJson),
  };
}

export const VM_COMMANDS: readonly CommandSpec[] = [
  {
    path: ['vm', 'create'],
    summary: 'create a VM on a host: encrypted under a policy, or --plain',
    positionals: [{ name: 'name', required: true }],
    options: [
      { name: 'host', type: 'string', required: true, help: 'the host', valueName: 'H' },
      {
        name: 'disk',
        type: 'strings',
        required: true,
        help: 'a disk of SIZE (repeat for more)',
        valueName: 'SIZE',
      },
      {
        name: 'policy',
        type: 'string',
        help: 'encryption policy (the built-in one: "VM Encryption Policy")',
        valueName: 'P',
      },
      { name: 'plain', type: 'boolean', help: 'no encryption' },
      DATA_OPTION,
    ],
    async run(ctx) {
      const policy = str(ctx.args, 'policy');
      if ((policy === undefined) === !flag(ctx.args, 'plain'))
        throw new CommonError('usage', 'give exactly one of --policy P or --plain');
      const disks = strs(ctx.args, 'disk').map(parseSize).join(',');
      return (await remote(ctx)).call<VmJson>('POST', '/api/v1/vms', {
        name: pos(ctx.args, 'name'),
        host: str(ctx.args, 'host'),
        disks,
        ...(policy !== undefined ? { policy } : {}),
      });
    },
    human: (r) => show(r as VmJson),
  },
  {
    path: ['vm', 'list'],
    summary: 'list VMs',
    options: [DATA_OPTION],
    async run(ctx) {
      return (await remote(ctx)).call<VmJson[]>('GET', '/api/v1/vms');
    },
    human: (r) =>
      table(
        ['NAME', 'HOST', 'POWER', 'CRYPTO', 'POLICY', 'KEY ID'],
        (r as VmJson[]).map((v) => [
          v.name,
          v.host,
          v.powerState,
          v.cryptoState,
          v.policy ?? '',
          v.keyId ?? '',
        ]),
      ),
  },
  {
    path: ['vm', 'show'],
    summary: 'show a VM',
    positionals: [{ name: 'name', required: true }],
    options: [DATA_OPTION],
    async run(ctx) {
      return (await remote(ctx)).call<VmJson>('GET', path(pos(ctx.args, 'name')));
    },
    human: (r) => show(r as VmJson),
  },
  power('power-on'),
  power('power-off'),
];
