/**
 * `cryptvisor provider renew-cert NAME (--kms-pki DIR | --csr-out FILE)`: renews center's client
 * certificate toward a key provider with a new key pair and the same subject (CN=center-client),
 * so the KMS's object ownership is unchanged and keys made before stay usable (docs/center.md,
 * "Certificate renewal").
 */
import { writeFile } from 'node:fs/promises';
import { CommonError } from '../../common/errors.js';
import { certificateInfo, signCsr } from '../../common/pki.js';
import { pos, str, type CommandSpec } from '../command.js';
import { DATA_OPTION, remote } from './login.js';

const base = (name: string): string => `/api/v1/providers/${encodeURIComponent(name)}`;

export const RENEW_COMMANDS: readonly CommandSpec[] = [
  {
    path: ['provider', 'renew-cert'],
    summary:
      "renew center's client certificate toward a provider, keeping its subject: signed at once with the KMS's CA (--kms-pki DIR), or a CSR to have signed (--csr-out FILE, then provider trust NAME --cert FILE)",
    positionals: [{ name: 'name', required: true }],
    options: [
      {
        name: 'kms-pki',
        type: 'string',
        help: "the KMS's PKI directory holding ca.pem and ca.key (e.g. D/kms/pki of cryptvisor up)",
        valueName: 'DIR',
      },
      { name: 'csr-out', type: 'string', help: 'write the CSR here instead', valueName: 'FILE' },
      { name: 'days', type: 'string', help: 'validity of the new certificate with --kms-pki (default 825)', valueName: 'N' },
      DATA_OPTION,
    ],
    async run(ctx) {
      const name = pos(ctx.args, 'name') as string;
      const pki = str(ctx.args, 'kms-pki');
      const csrOut = str(ctx.args, 'csr-out');
      if ((pki === undefined) === (csrOut === undefined))
        throw new CommonError('usage', 'give exactly one of --kms-pki DIR or --csr-out FILE');
      const daysText = str(ctx.args, 'days');
      const days = daysText === undefined ? undefined : Number(daysText);
      if (days !== undefined && (!Number.isInteger(days) || days < 1 || days > 3650))
        throw new CommonError('usage', '--days is a whole number from 1 to 3650');
      const client = await remote(ctx);
      const { csr } = await client.call<{ csr: string }>('POST', `${base(name)}/csr`);
      if (csrOut !== undefined) {
        await writeFile(csrOut, csr, { mode: 0o644 });
        return { provider: name, csr: csrOut };
      }
      const cert = await signCsr(pki as string, csr, { kind: 'client', ...(days ? { days } : {}) });
      await client.call('PUT', `${base(name)}/certificate`, { cert });
      const info = certificateInfo(cert);
      return {
        provider: name,
        subject: info.subject,
        notAfter: info.notAfter,
        fingerprint: info.fingerprintSha256,
      };
    },
    human: (r) => {
      const o = r as { provider: string; csr?: string; subject?: string; notAfter?: string };
      return o.csr
        ? `CSR written to ${o.csr}; have the KMS's CA sign it, then: provider trust ${o.provider} --cert FILE`
        : `renewed center's certificate for ${o.provider}: ${o.subject ?? ''}, valid until ${o.notAfter ?? ''}`;
    },
  },
];
