/** `cryptvisor user create|list|remove|passwd|role`: center's users (docs/center.md). */
import { generatePassword } from '../../center/index.js';
import { pos, str, type CommandSpec } from '../command.js';
import { DATA_OPTION, passwordOption, readPasswordLine, remote, table } from './login.js';

interface UserView {
  readonly name: string;
  readonly role: string;
  readonly createdAt?: string;
  readonly password?: string;
}

const PASSWORD_STDIN = {
  name: 'password-stdin',
  type: 'boolean',
  help: 'read the password from the first line of stdin',
} as const;

export const USER_COMMANDS: readonly CommandSpec[] = [
  {
    path: ['user', 'create'],
    summary: 'create a user (a generated password is printed once unless --password-stdin)',
    positionals: [{ name: 'name', required: true }],
    options: [
      {
        name: 'role',
        type: 'string',
        required: true,
        help: 'Administrator, NoCryptoAdmin, Cryptographer, Operator, ReadOnly or Auditor',
        valueName: 'ROLE',
      },
      PASSWORD_STDIN,
      DATA_OPTION,
    ],
    async run(ctx) {
      const given = ctx.args.options['password-stdin'] === true;
      const password = given ? await readPasswordLine(ctx.stdin) : generatePassword();
      const client = await remote(ctx);
      const u = await client.call<UserView>('POST', '/api/v1/users', {
        name: pos(ctx.args, 'name'),
        role: str(ctx.args, 'role'),
        password,
      });
      return given ? u : { ...u, password };
    },
    human: (r) => {
      const u = r as UserView;
      return (
        `user ${u.name} created (${u.role})` + (u.password ? `\npassword: ${u.password}   (shown once)` : '')
      );
    },
  },
  {
    path: ['user', 'list'],
    summary: 'list users and their roles',
    options: [DATA_OPTION],
    async run(ctx) {
      return (await remote(ctx)).call<UserView[]>('GET', '/api/v1/users');
    },
    human: (r) =>
      table(
        ['NAME', 'ROLE', 'CREATED'],
        (r as UserView[]).map((u) => [u.name, u.role, u.createdAt ?? '']),
      ),
  },
  {
    path: ['user', 'remove'],
    summary: 'remove a user and their tokens',
    positionals: [{ name: 'name', required: true }],
    options: [DATA_OPTION],
    async run(ctx) {
      return (await remote(ctx)).call(
        'DELETE',
        `/api/v1/users/${encodeURIComponent(pos(ctx.args, 'name') as string)}`,
      );
    },
    human: (r) => `user ${(r as { removed: string }).removed} removed`,
  },
  {
    path: ['user', 'passwd'],
    summary: "set a user's password (ends that user's login sessions)",
    positionals: [{ name: 'name', required: true }],
    options: [PASSWORD_STDIN, DATA_OPTION],
    async run(ctx) {
      const password = await passwordOption(ctx);
      return (await remote(ctx)).call(
        'PUT',
        `/api/v1/users/${encodeURIComponent(pos(ctx.args, 'name') as string)}/password`,
        { password },
      );
    },
    human: (r) => `password of ${(r as { name: string }).name} changed`,
  },
  {
    path: ['user', 'role'],
    summary: "change a user's role",
    positionals: [
      { name: 'name', required: true },
      { name: 'role', required: true },
    ],
    options: [DATA_OPTION],
    async run(ctx) {
      return (await remote(ctx)).call<UserView>(
        'PUT',
        `/api/v1/users/${encodeURIComponent(pos(ctx.args, 'name') as string)}/role`,
        { role: pos(ctx.args, 'role') },
      );
    },
    human: (r) => `user ${(r as UserView).name} is now ${(r as UserView).role}`,
  },
];
