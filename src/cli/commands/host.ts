/** `cryptvisor host add|list|show|remove|renew-cert`: hosts (enrolled agents), docs/center.md. */
import { CommonError } from '../../common/errors.js';
import { pos, str, type CommandSpec } from '../command.js';
import { DATA_OPTION, remote, table } from './login.js';

interface HostView {
  readonly name: string;
  readonly url: string;
  readonly hostId: string;
  readonly state: string | null;
  readonly reachable: boolean | null;
  readonly hostKeyId: string | null;
}

interface Renewed {
  readonly fingerprint: string;
  readonly notAfter: string;
}

const path = (name: string | undefined): string => `/api/v1/hosts/${encodeURIComponent(name ?? '')}`;
/** `--days N` of renew-cert: absent, or a whole number of days from 1 to 3650 (the agent's limit). */
function validityDays(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[0-9]{1,4}$/.test(text) || Number(text) < 1 || Number(text) > 3650)
    throw new CommonError('usage', `--days ${text}: a whole number of days, 1 to 3650`);
  return Number(text);
}

const show = (h: HostView): string =>
  `host ${h.name} (${h.hostId}) at ${h.url}: ${h.state ?? 'unknown'}${h.reachable === false ? ', unreachable' : ''}`;

export const HOST_COMMANDS: readonly CommandSpec[] = [
  {
    path: ['host', 'add'],
    summary:
      'enroll an agent with its one-time token, pinning its certificate by fingerprint; pushes its host key',
    positionals: [
      { name: 'name', required: true },
      { name: 'url', required: true },
    ],
    options: [
      {
        name: 'token',
        type: 'string',
        required: true,
        help: 'the enrollment token `agent init` printed',
        valueName: 'T',
      },
      {
        name: 'fingerprint',
        type: 'string',
        required: true,
        help: "SHA-256 fingerprint of the agent's certificate",
        valueName: 'F',
      },
      DATA_OPTION,
    ],
    async run(ctx) {
      return (await remote(ctx)).call<HostView>('POST', '/api/v1/hosts', {
        name: pos(ctx.args, 'name'),
        url: pos(ctx.args, 'url'),
        token: str(ctx.args, 'token'),
        fingerprint: str(ctx.args, 'fingerprint'),
      });
    },
    human: (r) => show(r as HostView),
  },
  {
    path: ['host', 'list'],
    summary: 'list hosts',
    options: [DATA_OPTION],
    async run(ctx) {
      return (await remote(ctx)).call<HostView[]>('GET', '/api/v1/hosts');
    },
    human: (r) =>
      table(
        ['NAME', 'URL', 'STATE', 'HOST KEY'],
        (r as HostView[]).map((h) => [h.name, h.url, h.state ?? 'unknown', h.hostKeyId ?? '']),
      ),
  },
  {
    path: ['host', 'show'],
    summary: 'show a host (checked now)',
    positionals: [{ name: 'name', required: true }],
    options: [DATA_OPTION],
    async run(ctx) {
      return (await remote(ctx)).call<HostView>('GET', path(pos(ctx.args, 'name')));
    },
    human: (r) => show(r as HostView),
  },
  {
    path: ['host', 'remove'],
    summary: "remove a host from center's inventory",
    positionals: [{ name: 'name', required: true }],
    options: [DATA_OPTION],
    async run(ctx) {
      return (await remote(ctx)).call('DELETE', path(pos(ctx.args, 'name')));
    },
    human: (r) => `host ${(r as { removed: string }).removed} removed`,
  },
  {
    path: ['host', 'renew-cert'],
    summary:
      "renew the agent's server certificate (same subject and SANs, new key pair) and re-pin it in center",
    positionals: [{ name: 'name', required: true }],
    options: [
      { name: 'days', type: 'string', help: 'validity of the new certificate in days (default 825)', valueName: 'N' },
      DATA_OPTION,
    ],
    async run(ctx) {
      const days = validityDays(str(ctx.args, 'days'));
      const url = `${path(pos(ctx.args, 'name'))}/renew-cert`;
      return (await remote(ctx)).call<HostView & Renewed>('POST', url, days === undefined ? {} : { days });
    },
    human: (r) => {
      const h = r as HostView & Renewed;
      return `host ${h.name}: renewed certificate ${h.fingerprint} pinned, valid until ${h.notAfter}`;
    },
  },
];
