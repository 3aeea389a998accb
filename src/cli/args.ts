import { CommonError } from '../common/errors.js';
import type { CommandSpec, OptionSpec, ParsedArgs } from './command.js';

/** Options every command takes. */
export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  { name: 'json', type: 'boolean', help: 'machine-readable output' },
  { name: 'help', type: 'boolean', help: 'show help' },
];

/** Finds the command whose path is the longest prefix of argv's leading words. */
export function findCommand(
  commands: readonly CommandSpec[],
  argv: readonly string[],
): { command: CommandSpec; rest: string[] } | undefined {
  let best: CommandSpec | undefined;
  for (const c of commands) {
    if (c.path.length > argv.length) continue;
    if (c.path.every((w, i) => argv[i] === w) && (!best || c.path.length > best.path.length)) best = c;
  }
  return best ? { command: best, rest: argv.slice(best.path.length) } : undefined;
}

/** Parses `--name value`, `--name=value` and booleans against the command's spec. */
export function parseArgs(spec: CommandSpec, argv: readonly string[]): ParsedArgs {
  const all = [...(spec.options ?? []), ...GLOBAL_OPTIONS];
  const byName = new Map(all.map((o) => [o.name, o]));
  const options: Record<string, string | boolean | string[] | undefined> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      const opt = byName.get(name);
      if (!opt) throw new CommonError('usage', `unknown option --${name} for "${spec.path.join(' ')}"`);
      if (opt.type === 'boolean') {
        if (eq >= 0) throw new CommonError('usage', `--${name} takes no value`);
        options[name] = true;
        continue;
      }
      let value: string | undefined;
      if (eq >= 0) value = a.slice(eq + 1);
      else {
        value = argv[i + 1];
        i++;
      }
      if (value === undefined) throw new CommonError('usage', `--${name} needs a value`);
      if (opt.type === 'strings') {
        const prev = options[name];
        options[name] = [...(Array.isArray(prev) ? prev : []), value];
      } else {
        if (options[name] !== undefined) throw new CommonError('usage', `--${name} given twice`);
        options[name] = value;
      }
      continue;
    }
    positionals.push(a);
  }
  if (options['help']) return { positionals: {}, options };
  for (const o of spec.options ?? []) {
    if (o.required && options[o.name] === undefined) throw new CommonError('usage', `--${o.name} is required`);
  }
  const named: Record<string, string | string[] | undefined> = {};
  const specs = spec.positionals ?? [];
  let p = 0;
  for (const ps of specs) {
    if (ps.variadic) {
      named[ps.name] = positionals.slice(p);
      p = positionals.length;
      if (ps.required && (named[ps.name] as string[]).length === 0) throw new CommonError('usage', `${ps.name} is required`);
      continue;
    }
    const v = positionals[p++];
    if (v === undefined && ps.required) throw new CommonError('usage', `${ps.name.toUpperCase()} is required`);
    named[ps.name] = v;
  }
  if (p < positionals.length) {
    throw new CommonError('usage', `unexpected argument "${positionals[p]}" for "${spec.path.join(' ')}"`);
  }
  return { positionals: named, options };
}

export function usageLine(spec: CommandSpec): string {
  const parts = ['cryptvisor', ...spec.path];
  for (const p of spec.positionals ?? []) {
    const n = p.name.toUpperCase() + (p.variadic ? ' ...' : '');
    parts.push(p.required ? n : `[${n}]`);
  }
  for (const o of spec.options ?? []) {
    const v = o.type === 'boolean' ? `--${o.name}` : `--${o.name} ${o.valueName ?? o.name.toUpperCase()}`;
    parts.push(o.required ? v : `[${v}]`);
  }
  return parts.join(' ');
}

export function commandHelp(spec: CommandSpec): string {
  const lines = [`usage: ${usageLine(spec)}`, '', spec.summary, ''];
  for (const o of [...(spec.options ?? []), ...GLOBAL_OPTIONS]) {
    const v = o.type === 'boolean' ? '' : ` ${o.valueName ?? o.name.toUpperCase()}`;
    lines.push(`  --${o.name}${v}`.padEnd(30) + o.help);
  }
  return lines.join('\n') + '\n';
}

export function overviewHelp(commands: readonly CommandSpec[]): string {
  const lines = ['usage: cryptvisor COMMAND [ARGS] [--json]', '', 'commands:'];
  for (const c of [...commands].sort((a, b) => a.path.join(' ').localeCompare(b.path.join(' ')))) {
    lines.push(`  ${c.path.join(' ')}`.padEnd(30) + c.summary);
  }
  lines.push('', 'exit codes: 0 ok, 1 failed, 2 usage, 3 not found, 4 permission denied, 5 locked or key unavailable');
  return lines.join('\n') + '\n';
}
