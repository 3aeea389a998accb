/**
 * `cryptvisor vm ...` through center (DESIGN.md §10, docs/center.md "VM operations"). Reads answer
 * at once; every operation is a center task, waited for unless `--no-wait` (task.ts).
 */
import { CommonError } from '../../common/errors.js';
import { parseSize } from '../../common/size.js';
import type { VmJson } from '../../center/index.js';
import { flag, pos, str, strs, type CommandContext, type CommandSpec, type OptionSpec } from '../command.js';
import { DATA_OPTION, remote, table } from './login.js';
import { NO_WAIT, runTask } from './task.js';
import { VM_MOVE_COMMANDS } from './vm-move.js';

const path = (name: string | undefined, rest = ''): string =>
  `/api/v1/vms/${encodeURIComponent(name ?? '')}${rest}`;
const show = (v: VmJson): string =>
  [
    `VM ${v.name} (${v.uuid}) on ${v.host}: ${v.powerState}, ${v.cryptoState}, ${v.encrypted ? `encrypted (${v.keyProviderId}/${v.keyId})` : 'plain'}`,
    ...v.disks.map(
      (d) => `  disk ${d.id}: ${d.sizeBytes} bytes ${d.extentPath}${d.nbdUri ? ` ${d.nbdUri}` : ''}`,
    ),
  ].join('\n');
const humanVm = (r: unknown): string => show(r as VmJson);

const NAME = [{ name: 'name', required: true }] as const;
const HOST: OptionSpec = { name: 'host', type: 'string', required: true, help: 'the host', valueName: 'H' };
const POLICY: OptionSpec = {
  name: 'policy',
  type: 'string',
  help: 'encryption policy (default and built-in: "VM Encryption Policy")',
  valueName: 'P',
};
const PLAIN: OptionSpec = { name: 'plain', type: 'boolean', help: 'no encryption' };
const SIZE: OptionSpec = {
  name: 'size',
  type: 'string',
  required: true,
  help: 'the size',
  valueName: 'SIZE',
};

/** vm create's runtime flags (extras beyond DESIGN §10; docs/center.md "The QEMU runtime"). */
const RUNTIME_OPTIONS: readonly OptionSpec[] = [
  { name: 'qemu', type: 'boolean', help: 'run the VM in QEMU at power-on (needs --kernel)' },
  {
    name: 'kernel',
    type: 'string',
    help: 'the kernel for direct boot (a path on the host)',
    valueName: 'PATH',
  },
  { name: 'initrd', type: 'string', help: 'the initrd (a path on the host)', valueName: 'PATH' },
  { name: 'append', type: 'string', help: 'the kernel command line', valueName: 'STR' },
  { name: 'memory', type: 'string', help: 'guest memory in MiB (default 256)', valueName: 'MIB' },
  { name: 'cpus', type: 'string', help: 'virtual CPUs (default 1)', valueName: 'N' },
];

function count(ctx: CommandContext, name: string): number | undefined {
  const v = str(ctx.args, name);
  if (v === undefined) return undefined;
  if (!/^[1-9][0-9]{0,6}$/.test(v))
    throw new CommonError('usage', `--${name} must be a positive whole number`);
  return Number(v);
}

/** The REST body's runtime fields from the flags; center checks them (and that --qemu is given). */
function runtimeFlags(ctx: CommandContext): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (flag(ctx.args, 'qemu')) out['qemu'] = true;
  for (const k of ['kernel', 'initrd', 'append'] as const) {
    const v = str(ctx.args, k);
    if (v !== undefined) out[k] = v;
  }
  const memoryMiB = count(ctx, 'memory');
  const cpus = count(ctx, 'cpus');
  if (memoryMiB !== undefined) out['memoryMiB'] = memoryMiB;
  if (cpus !== undefined) out['cpus'] = cpus;
  return out;
}

/** --policy P or --plain, exactly one (create and import). */
function policyOrPlain(ctx: CommandContext): { policy?: string } {
  const policy = str(ctx.args, 'policy');
  if ((policy === undefined) === !flag(ctx.args, 'plain'))
    throw new CommonError('usage', 'give exactly one of --policy P or --plain');
  return policy !== undefined ? { policy } : {};
}

/** `vm ACTION NAME`: a task on an existing VM, its result the VM. */
function operation(
  action: string,
  summary: string,
  options: readonly OptionSpec[] = [],
  body?: (ctx: CommandContext) => unknown,
): CommandSpec {
  return {
    path: ['vm', action],
    summary,
    positionals: NAME,
    options: [...options, NO_WAIT, DATA_OPTION],
    async run(ctx) {
      return runTask(
        ctx,
        await remote(ctx),
        'POST',
        path(pos(ctx.args, 'name'), `/${action}`),
        body?.(ctx) ?? {},
      );
    },
    human: humanVm,
  };
}

export const VM_COMMANDS: readonly CommandSpec[] = [
  {
    path: ['vm', 'create'],
    summary: 'create a VM on a host: encrypted under a policy, or --plain',
    positionals: NAME,
    options: [
      HOST,
      {
        name: 'disk',
        type: 'strings',
        required: true,
        help: 'a disk of SIZE (repeat for more)',
        valueName: 'SIZE',
      },
      POLICY,
      PLAIN,
      ...RUNTIME_OPTIONS,
      NO_WAIT,
      DATA_OPTION,
    ],
    async run(ctx) {
      const policy = policyOrPlain(ctx);
      const disks = strs(ctx.args, 'disk').map(parseSize).join(',');
      return runTask(ctx, await remote(ctx), 'POST', '/api/v1/vms', {
        name: pos(ctx.args, 'name'),
        host: str(ctx.args, 'host'),
        disks,
        ...policy,
        ...runtimeFlags(ctx),
      });
    },
    human: humanVm,
  },
  {
    path: ['vm', 'import'],
    summary: 'import a VM from a raw image or a VMDK monolithicFlat descriptor (paths on the host)',
    positionals: NAME,
    options: [
      HOST,
      { name: 'raw', type: 'string', help: 'a raw disk image', valueName: 'IMG' },
      { name: 'vmdk', type: 'string', help: 'a VMDK monolithicFlat descriptor', valueName: 'DESCRIPTOR' },
      POLICY,
      PLAIN,
      NO_WAIT,
      DATA_OPTION,
    ],
    async run(ctx) {
      const raw = str(ctx.args, 'raw');
      const vmdk = str(ctx.args, 'vmdk');
      if ((raw === undefined) === (vmdk === undefined))
        throw new CommonError('usage', 'give exactly one of --raw IMG or --vmdk DESCRIPTOR');
      const policy = policyOrPlain(ctx);
      return runTask(ctx, await remote(ctx), 'POST', '/api/v1/vms/import', {
        name: pos(ctx.args, 'name'),
        host: str(ctx.args, 'host'),
        ...(raw !== undefined ? { raw } : { vmdk }),
        ...policy,
      });
    },
    human: humanVm,
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
    positionals: NAME,
    options: [DATA_OPTION],
    async run(ctx) {
      return (await remote(ctx)).call<VmJson>('GET', path(pos(ctx.args, 'name')));
    },
    human: humanVm,
  },
  operation('encrypt', 'encrypt a powered-off VM, home and disks, under a policy', [POLICY], (ctx) => {
    const policy = str(ctx.args, 'policy');
    return policy !== undefined ? { policy } : {};
  }),
  operation('decrypt', 'decrypt a powered-off VM'),
  operation(
    'rekey',
    'shallow rekey (a new KEK; also while on), or --deep (new DEKs, data re-encrypted; powered off)',
    [{ name: 'deep', type: 'boolean', help: 'new DEKs too: every sector re-encrypted' }],
    (ctx) => ({ deep: flag(ctx.args, 'deep') }),
  ),
  operation('unlock', "push the VM's keys to its host (each fetched once)"),
  operation('power-on', 'power a VM on'),
  operation('power-off', 'power a VM off'),
  operation('suspend', 'suspend a running VM'),
  operation('resume', 'resume a suspended VM'),
  operation('snapshot', 'snapshot a running VM'),
  {
    path: ['vm', 'revert'],
    summary: 'revert a VM to a snapshot (not supported: snapshots hold no disk state)',
    positionals: [
      { name: 'name', required: true },
      { name: 'snapshot', required: true },
    ],
    options: [DATA_OPTION],
    async run(ctx) {
      return (await remote(ctx)).call('POST', path(pos(ctx.args, 'name'), '/revert'), {
        snapshot: pos(ctx.args, 'snapshot'),
      });
    },
  },
  {
    path: ['vm', 'register'],
    summary: 'register a VM folder on the datastore with a host',
    positionals: [{ name: 'path', required: true }],
    options: [HOST, NO_WAIT, DATA_OPTION],
    async run(ctx) {
      return runTask(ctx, await remote(ctx), 'POST', '/api/v1/vms/register', {
        path: pos(ctx.args, 'path'),
        host: str(ctx.args, 'host'),
      });
    },
    human: humanVm,
  },
  {
    path: ['vm', 'unregister'],
    summary: 'unregister a VM from its host (its folder stays on the datastore)',
    positionals: NAME,
    options: [NO_WAIT, DATA_OPTION],
    async run(ctx) {
      return runTask(ctx, await remote(ctx), 'POST', path(pos(ctx.args, 'name'), '/unregister'), {});
    },
    human: (r) =>
      `unregistered ${(r as { name: string }).name}; its folder is ${(r as { path: string }).path}`,
  },
  {
    path: ['vm', 'delete'],
    summary: 'delete a powered-off VM and its files (needs --yes)',
    positionals: NAME,
    options: [
      { name: 'yes', type: 'boolean', help: 'confirm: the VM and its disks are gone' },
      NO_WAIT,
      DATA_OPTION,
    ],
    async run(ctx) {
      if (!flag(ctx.args, 'yes'))
        throw new CommonError('usage', 'vm delete removes the VM and its disks: add --yes');
      return runTask(ctx, await remote(ctx), 'DELETE', path(pos(ctx.args, 'name')));
    },
    human: (r) => `deleted ${(r as { name: string }).name}`,
  },
  {
    path: ['vm', 'disk', 'add'],
    summary: 'add a disk to a powered-off VM',
    positionals: NAME,
    options: [SIZE, NO_WAIT, DATA_OPTION],
    async run(ctx) {
      return runTask(ctx, await remote(ctx), 'POST', path(pos(ctx.args, 'name'), '/disks'), {
        sizeBytes: parseSize(str(ctx.args, 'size') ?? ''),
      });
    },
    human: humanVm,
  },
  {
    path: ['vm', 'disk', 'grow'],
    summary: 'grow a disk of a powered-off VM',
    positionals: [
      { name: 'name', required: true },
      { name: 'disk', required: true },
    ],
    options: [SIZE, NO_WAIT, DATA_OPTION],
    async run(ctx) {
      const disk = encodeURIComponent(pos(ctx.args, 'disk') ?? '');
      return runTask(ctx, await remote(ctx), 'POST', path(pos(ctx.args, 'name'), `/disks/${disk}/grow`), {
        sizeBytes: parseSize(str(ctx.args, 'size') ?? ''),
      });
    },
    human: humanVm,
  },
  ...VM_MOVE_COMMANDS,
];
