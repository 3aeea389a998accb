/** `cryptvisor pki init|issue` (DESIGN.md §10, docs/pki.md). */
import { CommonError } from '../../common/errors.js';
import { initCa, issueCertificate, type IssuedCertificate } from '../../common/pki.js';
import { flag, str, type CommandSpec } from '../command.js';

function human(result: unknown): string {
  const r = result as IssuedCertificate;
  return `certificate: ${r.certFile}\nkey:         ${r.keyFile}\nsha256:      ${r.fingerprintSha256}`;
}

function days(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[0-9]+$/.test(v)) throw new CommonError('usage', '--days must be a positive integer');
  return Number(v);
}

export const PKI_COMMANDS: readonly CommandSpec[] = [
  {
    path: ['pki', 'init'],
    summary: 'create a CA: D/ca.pem and D/ca.key (0600)',
    options: [
      { name: 'dir', type: 'string', required: true, valueName: 'D', help: 'the PKI directory' },
      {
        name: 'cn',
        type: 'string',
        valueName: 'NAME',
        help: 'CA subject common name (default "cryptvisor CA")',
      },
      { name: 'days', type: 'string', valueName: 'N', help: 'validity in days (default 3650)' },
    ],
    async run(ctx) {
      const cn = str(ctx.args, 'cn');
      return initCa(str(ctx.args, 'dir') as string, {
        ...(cn ? { commonName: cn } : {}),
        ...optDays(str(ctx.args, 'days')),
      });
    },
    human,
  },
  {
    path: ['pki', 'issue'],
    summary: 'issue D/N.pem and D/N.key (0600), signed by the CA in D',
    options: [
      {
        name: 'dir',
        type: 'string',
        required: true,
        valueName: 'D',
        help: 'the PKI directory (holds ca.pem, ca.key)',
      },
      {
        name: 'name',
        type: 'string',
        required: true,
        valueName: 'N',
        help: 'file name, and subject CN unless --cn',
      },
      { name: 'server', type: 'boolean', help: 'a server certificate (EKU serverAuth); needs --san' },
      { name: 'san', type: 'string', valueName: 'LIST', help: 'comma-separated DNS names and IP addresses' },
      { name: 'client', type: 'boolean', help: 'a client certificate (EKU clientAuth)' },
      { name: 'cn', type: 'string', valueName: 'NAME', help: 'subject common name' },
      { name: 'days', type: 'string', valueName: 'N', help: 'validity in days (default 825)' },
    ],
    async run(ctx) {
      const server = flag(ctx.args, 'server');
      const client = flag(ctx.args, 'client');
      const san = str(ctx.args, 'san');
      if (server === client) throw new CommonError('usage', 'give exactly one of --server and --client');
      if (server && !san) throw new CommonError('usage', '--server needs --san LIST');
      if (client && san !== undefined) throw new CommonError('usage', '--san is for --server certificates');
      const cn = str(ctx.args, 'cn');
      return issueCertificate(
        str(ctx.args, 'dir') as string,
        str(ctx.args, 'name') as string,
        server ? { kind: 'server', sans: (san as string).split(',') } : { kind: 'client' },
        { ...(cn ? { commonName: cn } : {}), ...optDays(str(ctx.args, 'days')) },
      );
    },
    human,
  },
];

function optDays(v: string | undefined): { days?: number } {
  const d = days(v);
  return d === undefined ? {} : { days: d };
}
