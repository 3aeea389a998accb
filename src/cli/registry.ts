import type { CommandSpec } from './command.js';
import { PKI_COMMANDS } from './commands/pki.js';

/**
 * Every command of `cryptvisor`, one module per command group (src/cli/commands/<group>.ts).
 * Add a group by importing its array here.
 */
export const COMMANDS: readonly CommandSpec[] = [...PKI_COMMANDS];
