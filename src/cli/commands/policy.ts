/**
 * `cryptvisor policy create|list|show|edit|assign|unassign|group|compliance|reconcile`:
 * encryption policies (docs/center.md, "Policies").
 */
import { CommonError } from '../../common/errors.js';
import { CenterRemoteError, type CenterClient } from '../../center/index.js';
import { flag, pos, str, strs, type CommandContext, type CommandSpec, type OptionSpec } from '../command.js';
import { DATA_OPTION, readPasswordLine, remote, table } from './login.js';

interface PolicyView {
  readonly name: string;
  readonly builtin: boolean;
  readonly keyProvider: string | null;
  readonly encrypt: readonly string[];
  readonly keyScope: string;
  readonly sharedKey: { keyProviderId: string; keyId: string } | null;
  readonly escrow: { keyProviderId: string; secretId: string } | null;
  readonly rotateDays: number | null;
  readonly assigned?: { vms: string[]; folders: string[]; tags: string[] };
  readonly compliance?: readonly ComplianceView[];
}

interface ComplianceView {
  readonly vm: string;
  readonly policy: string | null;
  readonly via: string | null;
  readonly compliant: boolean;
  readonly reasons: readonly string[];
}

interface ReconcileView {
  readonly vms: readonly (ComplianceView & {
    started: string | null;
    taskId: string | null;
    skipped: string | null;
    task?: { state: string; error: { code: string; message: string } | null };
  })[];
}

interface TaskView {
  readonly id: string;
  readonly state: string;
  readonly error: { code: string; message: string } | null;
}

const NAME = [{ name: 'name', required: true }] as const;
const path = (name: string | undefined, rest = ''): string =>
  `/api/v1/policies/${encodeURIComponent(name ?? '')}${rest}`;

const SETTINGS: readonly OptionSpec[] = [
  { name: 'provider', type: 'string', help: 'key provider of its KEKs (default: the default provider)', valueName: 'P' },
  { name: 'encrypt', type: 'string', help: 'what is encrypted: home,disks (the only choice now)', valueName: 'LIST' },
  { name: 'key-scope', type: 'string', help: 'vm (one KEK per VM, default) or shared (one KEK for all its VMs)', valueName: 'S' },
  { name: 'escrow', type: 'string', help: 'none, or generate (a random passphrase kept at the key provider)', valueName: 'E' },
  { name: 'escrow-passphrase-stdin', type: 'boolean', help: 'the escrow passphrase from the first line of stdin' },
  { name: 'rotate-days', type: 'string', help: 'rotate the KEK every N days (0: never)', valueName: 'N' },
  DATA_OPTION,
];

const TARGET: readonly OptionSpec[] = [
  { name: 'vm', type: 'string', help: 'a VM', valueName: 'NAME' },
  { name: 'folder', type: 'string', help: 'a folder of VMs', valueName: 'F' },
  { name: 'tag', type: 'string', help: 'VMs carrying a tag', valueName: 'T' },
  DATA_OPTION,
];

async function settings(ctx: CommandContext): Promise<Record<string, unknown>> {
  const body: Record<string, unknown> = {};
  const provider = str(ctx.args, 'provider');
  if (provider !== undefined) body['keyProvider'] = provider;
  const encrypt = str(ctx.args, 'encrypt');
  if (encrypt !== undefined) body['encrypt'] = encrypt;
  const scope = str(ctx.args, 'key-scope');
  if (scope !== undefined) body['keyScope'] = scope;
  const escrow = str(ctx.args, 'escrow');
  if (flag(ctx.args, 'escrow-passphrase-stdin')) {
    if (escrow !== undefined) throw new CommonError('usage', '--escrow and --escrow-passphrase-stdin exclude each other');
    body['escrow'] = 'passphrase';
    body['escrowPassphrase'] = await readPasswordLine(ctx.stdin);
  } else if (escrow !== undefined) body['escrow'] = escrow;
  const days = str(ctx.args, 'rotate-days');
  if (days !== undefined) {
    if (!/^\d{1,4}$/.test(days)) throw new CommonError('usage', '--rotate-days is a number of days (0: never)');
    body['rotateDays'] = Number(days);
  }
  return body;
}

function target(ctx: CommandContext): Record<string, string> {
  const t: Record<string, string> = {};
  for (const k of ['vm', 'folder', 'tag']) {
    const v = str(ctx.args, k);
    if (v !== undefined) t[k] = v;
  }
  if (Object.keys(t).length !== 1) throw new CommonError('usage', 'name exactly one of --vm, --folder, --tag');
  return t;
}

const scopeText = (p: PolicyView): string =>
  p.keyScope === 'shared' ? `shared${p.sharedKey ? ` (${p.sharedKey.keyId})` : ''}` : 'one KEK per VM';

function showPolicy(p: PolicyView): string {
  const lines = [
    `policy ${p.name}${p.builtin ? ' (built in, read-only)' : ''}`,
    `provider:  ${p.keyProvider ?? '(default)'}`,
    `encrypts:  ${p.encrypt.join(', ')}`,
    `key scope: ${scopeText(p)}`,
    `escrow:    ${p.escrow ? `Secret Data ${p.escrow.secretId} at ${p.escrow.keyProviderId}` : 'none'}`,
    `rotation:  ${p.rotateDays ? `every ${p.rotateDays} days` : 'none'}`,
  ];
  if (p.assigned) {
    const a = p.assigned;
    lines.push(`assigned:  VMs [${a.vms.join(', ')}] folders [${a.folders.join(', ')}] tags [${a.tags.join(', ')}]`);
  }
  if (p.compliance) lines.push('', complianceTable(p.compliance));
  return lines.join('\n');
}

function complianceTable(rows: readonly ComplianceView[]): string {
  return table(
    ['VM', 'POLICY', 'VIA', 'COMPLIANT', 'REASONS'],
    rows.map((c) => [c.vm, c.policy ?? '-', c.via ?? '-', c.compliant ? 'yes' : 'no', c.reasons.join('; ')]),
  );
}

/** Waits for a task through center's long poll; returns its final record. */
async function waitTask(client: CenterClient, id: string): Promise<TaskView> {
  for (;;) {
    const t = await client.call<TaskView>('GET', `/api/v1/tasks/${encodeURIComponent(id)}/wait?timeout=60`);
    if (t.state === 'succeeded' || t.state === 'failed' || t.state === 'cancelled') return t;
  }
}

export const POLICY_COMMANDS: readonly CommandSpec[] = [
  {
    path: ['policy', 'create'],
    summary: 'create an encryption policy',
    positionals: NAME,
    options: SETTINGS,
    async run(ctx) {
      const body = { name: pos(ctx.args, 'name'), ...(await settings(ctx)) };
      return (await remote(ctx)).call<PolicyView>('POST', '/api/v1/policies', body);
    },
    human: (r) => showPolicy(r as PolicyView),
  },
  {
    path: ['policy', 'list'],
    summary: 'list encryption policies',
    options: [DATA_OPTION],
    async run(ctx) {
      return (await remote(ctx)).call<PolicyView[]>('GET', '/api/v1/policies');
    },
    human: (r) =>
      table(
        ['NAME', 'PROVIDER', 'KEY SCOPE', 'ESCROW', 'ROTATION'],
        (r as PolicyView[]).map((p) => [
          p.name,
          p.keyProvider ?? '(default)',
          scopeText(p),
          p.escrow ? 'yes' : 'no',
          p.rotateDays ? `${p.rotateDays} days` : '-',
        ]),
      ),
  },
  {
    path: ['policy', 'show'],
    summary: 'show a policy, what it is assigned to, and the compliance of its VMs',
    positionals: NAME,
    options: [DATA_OPTION],
    async run(ctx) {
      return (await remote(ctx)).call<PolicyView>('GET', path(pos(ctx.args, 'name')));
    },
    human: (r) => showPolicy(r as PolicyView),
  },
  {
    path: ['policy', 'edit'],
    summary: 'change a policy (--provider default follows the default provider)',
    positionals: NAME,
    options: SETTINGS,
    async run(ctx) {
      const body = await settings(ctx);
      if (Object.keys(body).length === 0) throw new CommonError('usage', 'nothing to change');
      return (await remote(ctx)).call<PolicyView>('PUT', path(pos(ctx.args, 'name')), body);
    },
    human: (r) => showPolicy(r as PolicyView),
  },
  {
    path: ['policy', 'assign'],
    summary: 'assign a policy to a VM, a folder or a tag',
    positionals: NAME,
    options: TARGET,
    async run(ctx) {
      return (await remote(ctx)).call('POST', path(pos(ctx.args, 'name'), '/assign'), target(ctx));
    },
    human: (r) => {
      const a = r as { policy: string; kind: string; target: string };
      return `policy ${a.policy} assigned to ${a.kind} ${a.target}`;
    },
  },
  {
    path: ['policy', 'unassign'],
    summary: 'remove the policy of a VM, a folder or a tag',
    options: TARGET,
    async run(ctx) {
      return (await remote(ctx)).call('POST', '/api/v1/policies/unassign', target(ctx));
    },
    human: (r) => {
      const a = r as { kind: string; target: string };
      return `no policy on ${a.kind} ${a.target}`;
    },
  },
  {
    path: ['policy', 'group'],
    summary: "set a VM's folder and tags (replacing them; none given: none)",
    positionals: [{ name: 'vm', required: true }],
    options: [
      { name: 'folder', type: 'string', help: 'the folder of the VM', valueName: 'F' },
      { name: 'tag', type: 'strings', help: 'a tag of the VM (repeat for more)', valueName: 'T' },
      DATA_OPTION,
    ],
    async run(ctx) {
      const folder = str(ctx.args, 'folder');
      const body = { ...(folder !== undefined ? { folder } : {}), tags: strs(ctx.args, 'tag').join(',') };
      if (body.tags === '') delete (body as { tags?: string }).tags;
      return (await remote(ctx)).call('PUT', `/api/v1/vm-groups/${encodeURIComponent(pos(ctx.args, 'vm') ?? '')}`, body);
    },
    human: (r) => {
      const g = r as { vm: string; folder: string | null; tags: string[] };
      return `VM ${g.vm}: folder ${g.folder ?? '-'}, tags ${g.tags.join(', ') || '-'}`;
    },
  },
  {
    path: ['policy', 'compliance'],
    summary: 'policy compliance of every VM',
    options: [DATA_OPTION],
    async run(ctx) {
      return (await remote(ctx)).call<ComplianceView[]>('GET', '/api/v1/compliance');
    },
    human: (r) => complianceTable(r as ComplianceView[]),
  },
  {
    path: ['policy', 'reconcile'],
    summary: 'bring every VM to its policy now; waits for the tasks it starts unless --no-wait',
    options: [{ name: 'no-wait', type: 'boolean', help: 'print the started task IDs instead of waiting' }, DATA_OPTION],
    async run(ctx) {
      const client = await remote(ctx);
      const report = await client.call<ReconcileView>('POST', '/api/v1/policies/reconcile');
      if (flag(ctx.args, 'no-wait')) return report;
      const vms = [];
      for (const v of report.vms) {
        const t = v.taskId ? await waitTask(client, v.taskId) : undefined;
        vms.push(t ? { ...v, task: { state: t.state, error: t.error } } : v);
      }
      const failed = vms.find((v) => v.task && v.task.state !== 'succeeded');
      if (failed?.task) {
        const e = failed.task.error ?? { code: 'task_failed', message: failed.task.state };
        throw new CenterRemoteError(e.code, 500, `${failed.started} of VM ${failed.vm} (task ${failed.taskId}): ${e.message}`);
      }
      return { ...report, vms };
    },
    human: (r) =>
      table(
        ['VM', 'POLICY', 'COMPLIANT', 'ACTION', 'TASK', 'NOTE'],
        (r as ReconcileView).vms.map((v) => [
          v.vm,
          v.policy ?? '-',
          v.compliant ? 'yes' : 'no',
          v.started ?? '-',
          v.taskId ? `${v.taskId}${v.task ? ` ${v.task.state}` : ''}` : '-',
          v.skipped ?? v.reasons.join('; '),
        ]),
      ),
  },
];
