/** The operations routes of center's API: alarms and key status (docs/center.md). */
import { CenterError } from './errors.js';
import { keyStatus } from './key-status.js';
import type { Route } from './routes.js';

export const OPS_ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: '/api/v1/alarms',
    summary: 'active alarms; with ?all=true also the cleared ones (the event history), newest first',
    privilege: 'System.Read',
    handler: async (c) => c.svc.alarms.list(c.query.get('all') === 'true'),
  },
  {
    method: 'POST',
    path: '/api/v1/alarms/check',
    summary: 'run the alarm check now (providers, certificates, hosts, locked VMs, keys)',
    privilege: 'Cryptographer.ReadKeyServersInfo',
    handler: async (c) => c.svc.alarms.check(),
  },
  {
    method: 'GET',
    path: '/api/v1/keys/{keyId}/status',
    summary:
      'whether a key is available at its provider (GetAttributes State) and which VMs and hosts use it; ?provider=NAME to ask one provider',
    privilege: 'Cryptographer.ReadKeyServersInfo',
    handler: async (c) => {
      const keyId = c.params['keyId']!;
      if (keyId.length === 0 || keyId.length > 256)
        throw new CenterError('invalid_request', 'a key ID is 1 to 256 characters');
      return keyStatus(c.svc, keyId, c.query.get('provider') ?? undefined);
    },
  },
];
