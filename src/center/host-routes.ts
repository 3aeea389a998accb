/** The host routes of center's API (docs/center.md, "Hosts"). */
import { audited } from './auth.js';
import { hostView } from './hosts.js';
import type { RequestContext, Route } from './routes.js';
import { NAME_PATTERN } from './validate.js';

const name = (c: RequestContext): string => c.params['name']!;

export const HOST_ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: '/api/v1/hosts',
    summary: 'list hosts with their last heartbeat',
    privilege: 'System.Read',
    handler: async (c) => (await c.svc.store.listHosts()).map((h) => hostView(h, c.svc.hosts.last(h.name))),
  },
  {
    method: 'POST',
    path: '/api/v1/hosts',
    summary:
      'enroll an agent (its one-time token; its certificate pinned by fingerprint) and push its host key',
    privilege: 'Cryptographer.RegisterHost',
    body: {
      name: { type: 'string', required: true, pattern: NAME_PATTERN, max: 64 },
      url: { type: 'string', required: true, max: 512 },
      token: { type: 'string', required: true, max: 512 },
      fingerprint: { type: 'string', required: true, max: 128 },
    },
    handler: async (c) => {
      const b = c.body as { name: string; url: string; token: string; fingerprint: string };
      const h = await audited(c, 'host.add', b.name, () =>
        c.svc.hosts.add(b.name, b.url, b.token, b.fingerprint),
      );
      return hostView(h, await c.svc.hosts.heartbeat(h.name));
    },
  },
  {
    method: 'GET',
    path: '/api/v1/hosts/{name}',
    summary: 'show a host (checks it now)',
    privilege: 'System.Read',
    handler: async (c) => hostView(await c.svc.store.getHost(name(c)), await c.svc.hosts.heartbeat(name(c))),
  },
  {
    method: 'GET',
    path: '/api/v1/hosts/{name}/host-key',
    summary:
      "the host key (base64), fetched from its provider, to decrypt that host's sealed crash dumps (`dump decrypt --host`); audited",
    privilege: 'Cryptographer.ManageKeys',
    handler: async (c) => audited(c, 'host.host-key.get', name(c), () => c.svc.hosts.hostKey(name(c))),
  },
  {
    method: 'DELETE',
    path: '/api/v1/hosts/{name}',
    summary: 'remove a host from the inventory (the agent keeps its enrollment)',
    privilege: 'Cryptographer.RegisterHost',
    handler: async (c) => {
      await audited(c, 'host.remove', name(c), () => c.svc.hosts.remove(name(c)));
      return { removed: name(c) };
    },
  },
  {
    method: 'POST',
    path: '/api/v1/hosts/{name}/renew-cert',
    summary:
      "renew the agent's server certificate (same subject and SANs, new key pair; optional days of validity) and re-pin it; answers the host with the new fingerprint and notAfter; audited",
    privilege: 'Cryptographer.RegisterHost',
    body: { days: { type: 'number', min: 1, max: 3650 } },
    handler: async (c) => {
      const days = (c.body as { days?: number }).days;
      const r = await audited(c, 'host.renew-cert', name(c), () => c.svc.hosts.renewCertificate(name(c), days));
      return { ...hostView(r.host, c.svc.hosts.last(name(c))), fingerprint: r.fingerprint, notAfter: r.notAfter };
    },
  },
  {
    method: 'POST',
    path: '/api/v1/hosts/{name}/heartbeat',
    summary: 'run a heartbeat now: re-push the host key after a restart and the keys its VMs need',
    privilege: 'Cryptographer.RegisterHost',
    handler: async (c) => c.svc.hosts.heartbeat(name(c)),
  },
];
