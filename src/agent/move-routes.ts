/**
 * Agent routes for clone and crypto-shred (docs/center.md, "Migrate, clone, shred"), spread into
 * the agent's route table in api.ts. Migrate needs no route of its own: it is unregister on the
 * source host and register on the target.
 */
import type { ApiContext } from './api.js';
import { cloneVm } from './clone.js';
import { AgentError, decodeName } from './errors.js';
import type { KeyRef } from './keys.js';
import { shredVm } from './shred.js';

type Body = Record<string, unknown>;

function cloneTarget(body: Body): KeyRef | null {
  const t = body['target'];
  if (t === undefined || t === null) return null;
  const o = t as Body;
  const ok = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 1024;
  if (typeof t !== 'object' || Array.isArray(t) || !ok(o['keyProviderId']) || !ok(o['keyId'])) {
    throw new AgentError('invalid_request', '"target" must be an object with keyProviderId and keyId');
  }
  return { keyProviderId: o['keyProviderId'], keyId: o['keyId'] };
}

export const MOVE_ROUTES = [
  {
    method: 'POST',
    pattern: /^\/api\/v1\/vms\/([^/]+)\/clone$/,
    handler: async (c: ApiContext, [n]: string[], body: Body): Promise<unknown> => {
      const name = body['name'];
      if (typeof name !== 'string') throw new AgentError('invalid_request', '"name" must be a string');
      if (body['newKeys'] !== undefined && typeof body['newKeys'] !== 'boolean')
        throw new AgentError('invalid_request', '"newKeys" must be a boolean');
      return cloneVm(c, decodeName(n), {
        name,
        target: cloneTarget(body),
        newKeys: body['newKeys'] === true,
      });
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/v1\/vms\/([^/]+)\/shred$/,
    handler: async (c: ApiContext, [n]: string[]): Promise<unknown> => shredVm(c, decodeName(n)),
  },
] as const;
