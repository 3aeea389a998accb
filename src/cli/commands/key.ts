/** `cryptvisor key status KEYID [--provider P]`: a key's state at its provider and its users. */
import type { KeyStatus } from '../../center/key-status.js';
import { pos, str, type CommandSpec } from '../command.js';
import { DATA_OPTION, remote, table } from './login.js';

function human(k: KeyStatus): string {
  const lines = [`key ${k.keyId}: ${k.available ? 'available' : 'NOT available'}`];
  for (const p of k.providers)
    lines.push(`  provider ${p.provider}: ${p.state ?? (p.missing ? 'missing' : 'unknown')}${p.error ? ` (${p.error})` : ''}`);
  if (k.vms.length > 0) {
    lines.push(
      table(
        ['VM', 'HOST', 'POWER', 'CRYPTO', 'DISKS'],
        k.vms.map((v) => [v.name, v.host, v.powerState, v.cryptoState, v.disks.join(',')]),
      ),
    );
  } else lines.push('  used by no VM');
  for (const h of k.hosts) lines.push(`  host ${h.name}: ${h.uses.join(', ')}`);
  if (k.unreachableHosts.length > 0) lines.push(`  not asked (unreachable): ${k.unreachableHosts.join(', ')}`);
  return lines.join('\n');
}

export const KEY_COMMANDS: readonly CommandSpec[] = [
  {
    path: ['key', 'status'],
    summary: 'whether a key is available at its provider, and which VMs and hosts use it',
    positionals: [{ name: 'keyId', required: true }],
    options: [
      { name: 'provider', type: 'string', help: 'ask this provider only', valueName: 'P' },
      DATA_OPTION,
    ],
    async run(ctx) {
      const provider = str(ctx.args, 'provider');
      return (await remote(ctx)).call<KeyStatus>(
        'GET',
        `/api/v1/keys/${encodeURIComponent(pos(ctx.args, 'keyId') ?? '')}/status${provider ? `?provider=${encodeURIComponent(provider)}` : ''}`,
      );
    },
    human: (r) => human(r as KeyStatus),
  },
];
