/** `cryptvisor provider add|list|show|remove|default|trust|status`: key providers (docs/center.md). */
import { readFile, writeFile } from 'node:fs/promises';
import { CommonError } from '../../common/errors.js';
import type { ProviderStatus } from '../../center/index.js';
import { pos, str, strs, type CommandSpec } from '../command.js';
import { DATA_OPTION, remote, table } from './login.js';

interface ProviderView {
  readonly name: string;
  readonly default: boolean;
  readonly servers: readonly string[];
  readonly identity: string;
  readonly ca: { readonly subject: string; readonly fingerprint: string; readonly notAfter: string };
}

async function readPem(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new CommonError('file_not_found', `cannot read ${file}`, { cause: err });
  }
}

const NAME = [{ name: 'name', required: true }] as const;
const path = (name: string | undefined, rest = ''): string =>
  `/api/v1/providers/${encodeURIComponent(name ?? '')}${rest}`;
const show = (p: ProviderView): string =>
  [
    `provider ${p.name}${p.default ? ' (default)' : ''}`,
    `servers:  ${p.servers.join(', ')}`,
    `identity: ${p.identity}`,
    `CA:       ${p.ca.subject} ${p.ca.fingerprint}`,
  ].join('\n');

export const PROVIDER_COMMANDS: readonly CommandSpec[] = [
  {
    path: ['provider', 'add'],
    summary: 'add a key provider (a cluster of KMIP servers); the first is the default',
    positionals: NAME,
    options: [
      {
        name: 'server',
        type: 'strings',
        required: true,
        help: 'a KMIP server of the cluster (repeat for more)',
        valueName: 'HOST:PORT',
      },
      {
        name: 'ca',
        type: 'string',
        required: true,
        help: "the CA of the servers' certificates (PEM)",
        valueName: 'FILE',
      },
      DATA_OPTION,
    ],
    async run(ctx) {
      const ca = await readPem(str(ctx.args, 'ca') as string);
      return (await remote(ctx)).call<ProviderView>('POST', '/api/v1/providers', {
        name: pos(ctx.args, 'name'),
        servers: strs(ctx.args, 'server').join(','),
        ca,
      });
    },
    human: (r) => show(r as ProviderView),
  },
  {
    path: ['provider', 'list'],
    summary: 'list key providers',
    options: [DATA_OPTION],
    async run(ctx) {
      return (await remote(ctx)).call<ProviderView[]>('GET', '/api/v1/providers');
    },
    human: (r) =>
      table(
        ['NAME', 'DEFAULT', 'SERVERS', 'IDENTITY'],
        (r as ProviderView[]).map((p) => [p.name, p.default ? 'yes' : '', p.servers.join(','), p.identity]),
      ),
  },
  {
    path: ['provider', 'show'],
    summary: 'show a key provider',
    positionals: NAME,
    options: [DATA_OPTION],
    async run(ctx) {
      return (await remote(ctx)).call<ProviderView>('GET', path(pos(ctx.args, 'name')));
    },
    human: (r) => show(r as ProviderView),
  },
  {
    path: ['provider', 'remove'],
    summary: 'remove a key provider',
    positionals: NAME,
    options: [DATA_OPTION],
    async run(ctx) {
      return (await remote(ctx)).call('DELETE', path(pos(ctx.args, 'name')));
    },
    human: (r) => `provider ${(r as { removed: string }).removed} removed`,
  },
  {
    path: ['provider', 'default'],
    summary: 'make a key provider the default',
    positionals: NAME,
    options: [DATA_OPTION],
    async run(ctx) {
      return (await remote(ctx)).call<ProviderView>('PUT', path(pos(ctx.args, 'name'), '/default'));
    },
    human: (r) => show(r as ProviderView),
  },
  {
    path: ['provider', 'trust'],
    summary:
      "set center's client identity toward a provider: --csr-out FILE (then --cert FILE signed by the KMS's CA), or --cert FILE --key FILE",
    positionals: NAME,
    options: [
      {
        name: 'csr-out',
        type: 'string',
        help: "write a CSR (CN=center-client) for the KMS's CA to sign",
        valueName: 'FILE',
      },
      {
        name: 'cert',
        type: 'string',
        help: "center's client certificate for this provider (PEM)",
        valueName: 'FILE',
      },
      {
        name: 'key',
        type: 'string',
        help: 'its private key (PEM); without it, the key of the last CSR',
        valueName: 'FILE',
      },
      DATA_OPTION,
    ],
    async run(ctx) {
      const name = pos(ctx.args, 'name');
      const csrOut = str(ctx.args, 'csr-out');
      const cert = str(ctx.args, 'cert');
      const key = str(ctx.args, 'key');
      if ((csrOut === undefined) === (cert === undefined))
        throw new CommonError('usage', 'give --csr-out FILE, or --cert FILE [--key FILE]');
      const client = await remote(ctx);
      if (csrOut !== undefined) {
        const { csr } = await client.call<{ csr: string }>('POST', path(name, '/csr'));
        await writeFile(csrOut, csr, { mode: 0o644 });
        return { csr: csrOut };
      }
      return client.call<ProviderView>('PUT', path(name, '/certificate'), {
        cert: await readPem(cert as string),
        ...(key ? { key: await readPem(key) } : {}),
      });
    },
    human: (r) =>
      'csr' in (r as object)
        ? `CSR written to ${(r as { csr: string }).csr}; have the KMS's CA sign it, then: provider trust NAME --cert FILE`
        : show(r as ProviderView),
  },
  {
    path: ['provider', 'status'],
    summary: 'per server: connection and certificate expiry',
    positionals: NAME,
    options: [DATA_OPTION],
    async run(ctx) {
      return (await remote(ctx)).call<ProviderStatus>('GET', path(pos(ctx.args, 'name'), '/status'));
    },
    human: (r) => {
      const s = r as ProviderStatus;
      return (
        `provider ${s.name}: client certificate expires ${s.clientCertificateExpires} (${s.clientDaysLeft} days)\n` +
        table(
          ['SERVER', 'CONNECTED', 'CERT EXPIRES', 'DAYS', 'ERROR'],
          s.servers.map((x) => [
            x.server,
            x.connected ? 'yes' : 'no',
            x.certificateExpires ?? '',
            x.daysLeft === null ? '' : String(x.daysLeft),
            x.error ?? '',
          ]),
        )
      );
    },
  },
];
