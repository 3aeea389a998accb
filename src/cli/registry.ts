import type { CommandSpec } from './command.js';

type Loader = () => Promise<readonly CommandSpec[]>;

/**
 * The command groups of `cryptvisor`, one module per group (src/cli/commands/<group>.ts), keyed by
 * the first word of the command line. A group is loaded only when its word is used (start-up
 * stays fast: `disk` never loads the KMS's database drivers); `--help` loads them all.
 * Add a group with one line here.
 */
const up: Loader = async () => (await import('./commands/up.js')).UP_COMMANDS;
const login: Loader = async () => (await import('./commands/login.js')).LOGIN_COMMANDS;

export const COMMAND_GROUPS: Readonly<Record<string, Loader>> = {
  pki: async () => (await import('./commands/pki.js')).PKI_COMMANDS,
  disk: async () => (await import('./commands/disk.js')).DISK_COMMANDS,
  kms: async () => (await import('./commands/kms.js')).KMS_COMMANDS,
  agent: async () => (await import('./commands/agent.js')).AGENT_COMMANDS,
  dump: async () => (await import('./commands/dump.js')).DUMP_COMMANDS,
  center: async () => (await import('./commands/center.js')).CENTER_COMMANDS,
  login,
  logout: login,
  user: async () => (await import('./commands/user.js')).USER_COMMANDS,
  token: async () => (await import('./commands/token.js')).TOKEN_COMMANDS,
  provider: async () => [
    ...(await import('./commands/provider.js')).PROVIDER_COMMANDS,
    ...(await import('./commands/renew.js')).RENEW_COMMANDS,
  ],
  host: async () => (await import('./commands/host.js')).HOST_COMMANDS,
  vm: async () => (await import('./commands/vm.js')).VM_COMMANDS,
  task: async () => (await import('./commands/task.js')).TASK_COMMANDS,
  policy: async () => (await import('./commands/policy.js')).POLICY_COMMANDS,
  audit: async () => (await import('./commands/audit.js')).AUDIT_COMMANDS,
  key: async () => (await import('./commands/key.js')).KEY_COMMANDS,
  alarm: async () => (await import('./commands/alarm.js')).ALARM_COMMANDS,
  up,
  down: up,
  status: up,
  demo: async () => (await import('./commands/demo.js')).DEMO_COMMANDS,
};

/** The commands a command line may name: its group's, or all of them when the word is unknown. */
export async function loadCommands(argv: readonly string[]): Promise<readonly CommandSpec[]> {
  const group = argv[0] !== undefined ? COMMAND_GROUPS[argv[0]] : undefined;
  if (group) return group();
  const loaders = [...new Set(Object.values(COMMAND_GROUPS))];
  return (await Promise.all(loaders.map((l) => l()))).flat();
}
