import { CryptvisorError, EXIT, toCryptvisorError } from '../common/errors.js';
import type { Logger } from '../common/logging.js';
import { commandHelp, findCommand, overviewHelp, parseArgs } from './args.js';
import type { CommandContext, CommandSpec } from './command.js';

export interface RunIO {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream;
  readonly isTTY: boolean;
  readonly logger: Logger;
  readonly signal: AbortSignal;
}

function printResult(ctx: CommandContext, spec: CommandSpec, result: unknown): void {
  if (result === undefined) return;
  if (ctx.json) {
    ctx.stdout.write(JSON.stringify(result, null, 2) + '\n');
    return;
  }
  const text = spec.human ? spec.human(result) : typeof result === 'string' ? result : JSON.stringify(result, null, 2);
  if (text.length > 0) ctx.stdout.write(text.endsWith('\n') ? text : text + '\n');
}

/** Runs one command line and returns its exit code (DESIGN.md §10). */
export async function runCli(commands: readonly CommandSpec[], argv: readonly string[], io: RunIO): Promise<number> {
  const json = argv.includes('--json');
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === 'help' || argv[0] === '-h') {
    io.stdout.write(overviewHelp(commands));
    return argv.length === 0 ? EXIT.usage : EXIT.ok;
  }
  const found = findCommand(commands, argv);
  if (!found) {
    const group = commands.filter((c) => c.path[0] === argv[0]);
    if (group.length > 0 && (argv.length === 1 || argv[1] === '--help' || argv[1] === 'help')) {
      io.stdout.write(overviewHelp(group));
      return argv.length === 1 ? EXIT.usage : EXIT.ok;
    }
    const msg = `unknown command "${argv.filter((a) => !a.startsWith('-')).join(' ')}"`;
    return fail(io, json, new CryptvisorError('usage', 'usage', msg));
  }
  try {
    const args = parseArgs(found.command, found.rest);
    if (args.options['help']) {
      io.stdout.write(commandHelp(found.command));
      return EXIT.ok;
    }
    const ctx: CommandContext = { ...io, args, json };
    const result = await found.command.run(ctx);
    printResult(ctx, found.command, result);
    return EXIT.ok;
  } catch (err) {
    return fail(io, json, err);
  }
}

function fail(io: RunIO, json: boolean, err: unknown): number {
  const e = toCryptvisorError(err);
  if (e.code === 'internal') io.logger.error({ err: err instanceof Error ? err.stack : String(err) }, 'internal error');
  if (json) io.stdout.write(JSON.stringify({ error: e.toJSON() }) + '\n');
  else io.stderr.write(`cryptvisor: ${e.message}${e.kind === 'usage' && !e.message.includes('--help') ? ' (see cryptvisor --help)' : ''}\n`);
  return e.exitCode;
}
