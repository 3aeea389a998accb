/** `cryptvisor login URL --user U [--ca FILE | --fingerprint F] [--password-stdin]` and `logout`. */
import { readFile } from 'node:fs/promises';
import { CommonError } from '../../common/errors.js';
import {
  clearSession,
  connectCenter,
  normalizeFingerprint,
  passwordLogin,
  saveSession,
  type CenterClient,
} from '../../center/index.js';
import { flag, pos, str, type CommandContext, type CommandSpec, type OptionSpec } from '../command.js';

/** `--data D`: use D/credentials.json (a system `cryptvisor up` started) instead of the login session. */
export const DATA_OPTION: OptionSpec = {
  name: 'data',
  type: 'string',
  help: 'the data directory of `cryptvisor up` (default $CRYPTVISOR_DATA)',
  valueName: 'D',
};

/** A client of center for this command: --data, else CRYPTVISOR_DATA, else the login session. */
export function remote(ctx: CommandContext): Promise<CenterClient> {
  return connectCenter(ctx.env, str(ctx.args, 'data'));
}

const MAX_PASSWORD = 1024;

/** The first line of stdin (a password), without its line ending. */
export async function readPasswordLine(stdin: NodeJS.ReadableStream): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const c of stdin as AsyncIterable<Buffer | string>) {
    const b = typeof c === 'string' ? Buffer.from(c) : c;
    parts.push(b);
    size += b.length;
    if (b.includes(0x0a) || size > MAX_PASSWORD + 2) break;
  }
  const all = Buffer.concat(parts);
  const line = all.toString('utf8').split(/\r?\n/)[0] ?? '';
  all.fill(0);
  if (line.length === 0) throw new CommonError('usage', 'no password on stdin');
  if (line.length > MAX_PASSWORD) throw new CommonError('usage', 'the password is too long');
  return line;
}

/** The password of a command: from stdin with --password-stdin; there is no interactive prompt yet. */
export async function passwordOption(ctx: {
  args: Parameters<typeof flag>[0];
  stdin: NodeJS.ReadableStream;
}): Promise<string> {
  if (!flag(ctx.args, 'password-stdin'))
    throw new CommonError(
      'not_supported',
      'interactive password prompts are not supported; pass --password-stdin',
    );
  return readPasswordLine(ctx.stdin);
}

/** A plain-text table: one header row, columns padded to their widest cell. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export const LOGIN_COMMANDS: readonly CommandSpec[] = [
  {
    path: ['login'],
    summary: 'log in to center; keeps a bearer token in ~/.config/cryptvisor/session.json (0600)',
    positionals: [{ name: 'url', required: true }],
    options: [
      { name: 'user', type: 'string', required: true, help: 'user name', valueName: 'U' },
      {
        name: 'ca',
        type: 'string',
        help: "the CA that signed center's certificate (PEM file)",
        valueName: 'FILE',
      },
      {
        name: 'fingerprint',
        type: 'string',
        help: "SHA-256 fingerprint of center's certificate",
        valueName: 'F',
      },
      { name: 'password-stdin', type: 'boolean', help: 'read the password from the first line of stdin' },
    ],
    async run(ctx) {
      const url = pos(ctx.args, 'url') as string;
      const caFile = str(ctx.args, 'ca');
      const fp = str(ctx.args, 'fingerprint');
      if ((caFile === undefined) === (fp === undefined))
        throw new CommonError('usage', 'give exactly one of --ca FILE or --fingerprint F');
      const ca =
        caFile !== undefined
          ? await readFile(caFile, 'utf8').catch((err: unknown) => {
              throw new CommonError('file_not_found', `cannot read ${caFile}`, { cause: err });
            })
          : undefined;
      const fingerprint = fp !== undefined ? normalizeFingerprint(fp) : undefined;
      const user = str(ctx.args, 'user') as string;
      const r = await passwordLogin(url, { ca, fingerprint }, user, await passwordOption(ctx));
      const file = await saveSession(ctx.env, {
        url: r.client.url,
        user,
        token: r.token,
        tokenId: r.tokenId,
        ...(ca ? { ca } : {}),
        ...(fingerprint ? { fingerprint } : {}),
      });
      return { url: r.client.url, user, role: r.role, session: file };
    },
    human: (r) => {
      const o = r as { url: string; user: string; role: string };
      return `logged in to ${o.url} as ${o.user} (${o.role})`;
    },
  },
  {
    path: ['logout'],
    summary: "revoke the login session's token and forget it",
    async run(ctx) {
      const client = await connectCenter({ ...ctx.env, CRYPTVISOR_DATA: undefined });
      await client.call('POST', '/api/v1/logout').catch(() => undefined);
      await clearSession(ctx.env);
      return { loggedOut: true };
    },
    human: () => 'logged out',
  },
];
