import type { CommandSpec } from './command.js';
import { AGENT_COMMANDS } from './commands/agent.js';
import { DISK_COMMANDS } from './commands/disk.js';
import { KMS_COMMANDS } from './commands/kms.js';
import { PKI_COMMANDS } from './commands/pki.js';
import { UP_COMMANDS } from './commands/up.js';

/**
 * Every command of `cryptvisor`, one module per command group (src/cli/commands/<group>.ts).
 * Add a group by importing its array here.
 */
export const COMMANDS: readonly CommandSpec[] = [...PKI_COMMANDS, ...DISK_COMMANDS, ...KMS_COMMANDS, ...UP_COMMANDS, ...AGENT_COMMANDS];
