/** The key-provider routes of center's API (docs/center.md, "Key providers"). */
import { audited } from './auth.js';
import { NAME_PATTERN } from './validate.js';
import { providerView } from './providers.js';
import type { RequestContext, Route } from './routes.js';

const PEM = { type: 'string', max: 64 * 1024 } as const;

const name = (c: RequestContext): string => c.params['name']!;

export const PROVIDER_ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: '/api/v1/providers',
    summary: 'list key providers',
    privilege: 'Cryptographer.ReadKeyServersInfo',
    handler: async (c) => (await c.svc.store.listProviders()).map(providerView),
  },
  {
    method: 'POST',
    path: '/api/v1/providers',
    summary:
      'add a key provider: a named cluster of KMIP servers and the CA of their certificates (the first one is the default)',
    privilege: 'Cryptographer.ManageKeyServers',
    body: {
      name: { type: 'string', required: true, pattern: NAME_PATTERN, max: 64 },
      servers: { type: 'string', required: true, max: 4096 },
      ca: { ...PEM, required: true },
    },
    handler: async (c) => {
      const b = c.body as { name: string; servers: string; ca: string };
      return providerView(
        await audited(c, 'provider.add', b.name, () => c.svc.providers.add(b.name, b.servers, b.ca)),
      );
    },
  },
  {
    method: 'GET',
    path: '/api/v1/providers/{name}',
    summary: 'show a key provider',
    privilege: 'Cryptographer.ReadKeyServersInfo',
    handler: async (c) => providerView(await c.svc.store.getProvider(name(c))),
  },
  {
    method: 'PUT',
    path: '/api/v1/providers/{name}',
    summary: "replace a provider's servers (add or remove servers of the cluster) or its CA",
    privilege: 'Cryptographer.ManageKeyServers',
    body: { servers: { type: 'string', max: 4096 }, ca: PEM },
    handler: async (c) =>
      providerView(
        await audited(c, 'provider.update', name(c), () =>
          c.svc.providers.update(name(c), c.body as { servers?: string; ca?: string }),
        ),
      ),
  },
  {
    method: 'DELETE',
    path: '/api/v1/providers/{name}',
    summary: 'remove a key provider',
    privilege: 'Cryptographer.ManageKeyServers',
    handler: async (c) => {
      await audited(c, 'provider.remove', name(c), () => c.svc.providers.remove(name(c)));
      return { removed: name(c) };
    },
  },
  {
    method: 'PUT',
    path: '/api/v1/providers/{name}/default',
    summary: 'make a provider the default',
    privilege: 'Cryptographer.ManageKeyServers',
    handler: async (c) => {
      await audited(c, 'provider.default', name(c), () => c.svc.store.setDefaultProvider(name(c)));
      return providerView(await c.svc.store.getProvider(name(c)));
    },
  },
  {
    method: 'POST',
    path: '/api/v1/providers/{name}/csr',
    summary:
      "make a client key for this provider and return its CSR (CN=center-client) for the KMS's CA to sign",
    privilege: 'Cryptographer.ManageKeyServers',
    handler: async (c) => ({
      csr: await audited(c, 'provider.csr', name(c), () => c.svc.providers.createCsr(name(c))),
    }),
  },
  {
    method: 'PUT',
    path: '/api/v1/providers/{name}/certificate',
    summary:
      "install center's client certificate for this provider (with a key, or for the key of the last CSR)",
    privilege: 'Cryptographer.ManageKeyServers',
    body: { cert: { ...PEM, required: true }, key: PEM },
    handler: async (c) => {
      const b = c.body as { cert: string; key?: string };
      return providerView(
        await audited(c, 'provider.trust', name(c), () =>
          c.svc.providers.setCertificate(name(c), b.cert, b.key),
        ),
      );
    },
  },
  {
    method: 'GET',
    path: '/api/v1/providers/{name}/status',
    summary: "per server: connection and certificate expiry; and center's client certificate expiry",
    privilege: 'Cryptographer.ReadKeyServersInfo',
    handler: async (c) => c.svc.providers.status(name(c)),
  },
];
