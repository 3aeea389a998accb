/** `cryptvisor token create|list|revoke`: API tokens for automation (docs/center.md). */
import { CommonError } from '../../common/errors.js';
import { flag, pos, str, type CommandSpec } from '../command.js';
import { DATA_OPTION, remote, table } from './login.js';

interface TokenView {
  readonly id: string;
  readonly user?: string;
  readonly label: string;
  readonly kind?: string;
  readonly createdAt?: string;
  readonly expiresAt: string | null;
  readonly token?: string;
}

export const TOKEN_COMMANDS: readonly CommandSpec[] = [
  {
    path: ['token', 'create'],
    summary: 'create an API token for the current user (printed once)',
    positionals: [{ name: 'label', required: true }],
    options: [
      { name: 'expires-days', type: 'string', help: 'expire after N days (default: never)', valueName: 'N' },
      DATA_OPTION,
    ],
    async run(ctx) {
      const days = str(ctx.args, 'expires-days');
      const n = days === undefined ? undefined : Number(days);
      if (n !== undefined && (!Number.isInteger(n) || n < 1 || n > 3650))
        throw new CommonError('usage', '--expires-days must be 1 to 3650');
      return (await remote(ctx)).call<TokenView>('POST', '/api/v1/tokens', {
        label: pos(ctx.args, 'label'),
        ...(n ? { expiresInDays: n } : {}),
      });
    },
    human: (r) => {
      const t = r as TokenView;
      return `token ${t.id} (${t.label}) created${t.expiresAt ? `, expires ${t.expiresAt}` : ''}\n${t.token ?? ''}   (shown once; send it as "Authorization: Bearer …")`;
    },
  },
  {
    path: ['token', 'list'],
    summary: "list your tokens (--all: everyone's, needs Users.Manage)",
    options: [{ name: 'all', type: 'boolean', help: "every user's tokens" }, DATA_OPTION],
    async run(ctx) {
      return (await remote(ctx)).call<TokenView[]>(
        'GET',
        `/api/v1/tokens${flag(ctx.args, 'all') ? '?all=true' : ''}`,
      );
    },
    human: (r) =>
      table(
        ['ID', 'USER', 'LABEL', 'KIND', 'EXPIRES'],
        (r as TokenView[]).map((t) => [t.id, t.user ?? '', t.label, t.kind ?? '', t.expiresAt ?? 'never']),
      ),
  },
  {
    path: ['token', 'revoke'],
    summary: 'revoke a token by its ID',
    positionals: [{ name: 'id', required: true }],
    options: [DATA_OPTION],
    async run(ctx) {
      return (await remote(ctx)).call(
        'DELETE',
        `/api/v1/tokens/${encodeURIComponent(pos(ctx.args, 'id') as string)}`,
      );
    },
    human: (r) => `token ${(r as { revoked: string }).revoked} revoked`,
  },
];
