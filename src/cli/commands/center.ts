/** `cryptvisor center init|serve`: the management server (DESIGN.md §10, docs/center.md). */
import { CommonError } from '../../common/errors.js';
import { initCenter, startCenter, type CenterInitResult } from '../../center/index.js';
import { flag, str, type CommandSpec } from '../command.js';
import { readPasswordLine } from './login.js';

function port(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const p = Number(text);
  if (!Number.isInteger(p) || p < 0 || p > 65535) throw new CommonError('usage', `invalid port "${text}"`);
  return p;
}

export const CENTER_COMMANDS: readonly CommandSpec[] = [
  {
    path: ['center', 'init'],
    summary:
      "create center's data directory, PKI, database and first Administrator (its password is printed once)",
    options: [
      { name: 'data', type: 'string', required: true, help: "center's data directory", valueName: 'D' },
      {
        name: 'database',
        type: 'string',
        help: 'a postgres:// URL (default: SQLite in D/center.db)',
        valueName: 'URL',
      },
      {
        name: 'user',
        type: 'string',
        help: "the Administrator's name (default administrator)",
        valueName: 'U',
      },
      {
        name: 'password-stdin',
        type: 'boolean',
        help: "read the Administrator's password from stdin instead of generating one",
      },
      {
        name: 'port',
        type: 'string',
        help: 'port center serve listens on (default: any free port)',
        valueName: 'P',
      },
      {
        name: 'san',
        type: 'string',
        help: "names of center's TLS certificate (default localhost,127.0.0.1)",
        valueName: 'LIST',
      },
    ],
    async run(ctx) {
      const san = str(ctx.args, 'san');
      return initCenter(str(ctx.args, 'data') as string, {
        database: str(ctx.args, 'database'),
        adminUser: str(ctx.args, 'user'),
        adminPassword: flag(ctx.args, 'password-stdin') ? await readPasswordLine(ctx.stdin) : undefined,
        port: port(str(ctx.args, 'port')),
        sans: san
          ? san
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean)
          : undefined,
      });
    },
    human: (r) => {
      const o = r as CenterInitResult;
      return [
        `center initialized in ${o.dataDir}`,
        `administrator:  ${o.user}`,
        ...(o.password ? [`password:       ${o.password}   (shown once)`] : []),
        `CA:             ${o.ca}`,
        `fingerprint:    ${o.fingerprint}`,
        `client cert:    ${o.clientFingerprint}   (center-client, center's identity toward agents and key providers)`,
      ].join('\n');
    },
  },
  {
    path: ['center', 'serve'],
    summary: 'run center until SIGINT or SIGTERM',
    options: [
      { name: 'data', type: 'string', required: true, help: "center's data directory", valueName: 'D' },
      {
        name: 'host',
        type: 'string',
        help: 'listen address (default from center.json, 127.0.0.1)',
        valueName: 'H',
      },
      { name: 'port', type: 'string', help: 'listen port (default from center.json)', valueName: 'P' },
    ],
    async run(ctx) {
      const center = await startCenter({
        dataDir: str(ctx.args, 'data') as string,
        host: str(ctx.args, 'host'),
        port: port(str(ctx.args, 'port')),
        logger: ctx.logger.child({ service: 'center' }),
      });
      ctx.stdout.write(
        ctx.json ? JSON.stringify({ url: center.url }) + '\n' : `center listening on ${center.url}\n`,
      );
      await new Promise<void>((res) => {
        if (ctx.signal.aborted) res();
        else ctx.signal.addEventListener('abort', () => res(), { once: true });
      });
      await center.close();
      return undefined;
    },
  },
];
