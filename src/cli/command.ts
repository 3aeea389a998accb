import type { Logger } from '../common/logging.js';

/** One option of a command. `strings` may be given many times (`--disk 1G --disk 2G`). */
export interface OptionSpec {
  readonly name: string;
  readonly type: 'string' | 'boolean' | 'strings';
  readonly help: string;
  readonly required?: boolean;
  readonly valueName?: string;
}

export interface PositionalSpec {
  readonly name: string;
  readonly required?: boolean;
  readonly variadic?: boolean;
}

export interface ParsedArgs {
  readonly positionals: Readonly<Record<string, string | string[] | undefined>>;
  readonly options: Readonly<Record<string, string | boolean | string[] | undefined>>;
}

export interface CommandContext {
  readonly args: ParsedArgs;
  readonly json: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream;
  readonly isTTY: boolean;
  readonly logger: Logger;
  /** Resolves when SIGINT or SIGTERM arrives; long-running commands (serve, up) wait on it. */
  readonly signal: AbortSignal;
}

export interface CommandSpec {
  /** The words that name the command: ['kms', 'init']. */
  readonly path: readonly string[];
  readonly summary: string;
  readonly positionals?: readonly PositionalSpec[];
  readonly options?: readonly OptionSpec[];
  /** Runs the command; the result is printed as JSON with --json, else through `human`. */
  run(ctx: CommandContext): Promise<unknown>;
  human?(result: unknown): string;
}

export function str(args: ParsedArgs, name: string): string | undefined {
  const v = args.options[name];
  return typeof v === 'string' ? v : undefined;
}

export function strs(args: ParsedArgs, name: string): string[] {
  const v = args.options[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

export function flag(args: ParsedArgs, name: string): boolean {
  return args.options[name] === true;
}

export function pos(args: ParsedArgs, name: string): string | undefined {
  const v = args.positionals[name];
  return typeof v === 'string' ? v : undefined;
}
