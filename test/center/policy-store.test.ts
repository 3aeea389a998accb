/** The contract of the policy tables (policy-store.ts), run against SQLite and PostgreSQL. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { CenterStore } from '../../src/center/store/index.js';
import { PolicyStore } from '../../src/center/store/policy-store.js';
import { needPg } from '../support/peers.js';

/** A fresh store on each backend (PostgreSQL: a schema of its own), or undefined when skipped. */
async function openBackend(t: TestContext, backend: string): Promise<{ store: CenterStore; done(): Promise<void> } | undefined> {
  if (backend === 'sqlite') {
    const dir = await mkdtemp(join(tmpdir(), 'policy-store-'));
    const store = await CenterStore.open({ dataDir: dir });
    return { store, done: async () => (await store.close(), await rm(dir, { recursive: true, force: true })) };
  }
  const url = needPg(t);
  if (!url) return undefined;
  const u = new URL(url);
  u.searchParams.set('schema', `policy_t_${randomBytes(6).toString('hex')}`);
  const store = await CenterStore.open({ dataDir: '/nonexistent', database: u.toString() });
  return { store, done: () => store.close() };
}

const BASE = { keyProvider: null, keyScope: 'vm' as const, sharedKey: null, escrow: null, rotateDays: null };

for (const backend of ['sqlite', 'postgres']) {
  describe(`policy store (${backend})`, () => {
    it('policies: create, find, update, shared key compare-and-set', async (t) => {
      const b = await openBackend(t, backend);
      if (!b) return;
      try {
        const ps = new PolicyStore(b.store.db);
        await ps.create({ ...BASE, name: 'gold', escrow: { keyProviderId: 'kms1', secretId: 's-1' }, rotateDays: 30 });
        await assert.rejects(ps.create({ ...BASE, name: 'gold' }), { code: 'policy_exists' });
        const gold = await ps.find('gold');
        assert.deepEqual(
          { escrow: gold?.escrow, rotateDays: gold?.rotateDays, scope: gold?.keyScope, provider: gold?.keyProvider },
          { escrow: { keyProviderId: 'kms1', secretId: 's-1' }, rotateDays: 30, scope: 'vm', provider: null },
        );
        await ps.update({ ...BASE, name: 'gold', keyProvider: 'kms2', keyScope: 'shared' });
        assert.deepEqual(
          { provider: (await ps.find('gold'))?.keyProvider, escrow: (await ps.find('gold'))?.escrow },
          { provider: 'kms2', escrow: null },
        );
        await assert.rejects(ps.update({ ...BASE, name: 'nope' }), { code: 'policy_not_found' });

        const k1 = { keyProviderId: 'kms2', keyId: 'k1' };
        const k2 = { keyProviderId: 'kms2', keyId: 'k2' };
        assert.deepEqual(await ps.setSharedKey('gold', k1, null), k1);
        // A second writer that still expected no key loses and gets the one in force.
        assert.deepEqual(await ps.setSharedKey('gold', k2, null), k1);
        assert.deepEqual(await ps.setSharedKey('gold', k2, k1), k2);
        assert.deepEqual((await ps.find('gold'))?.sharedKey, k2);
        assert.deepEqual((await ps.list()).map((p) => p.name), ['gold']);
      } finally {
        await b.done();
      }
    });

    it('assignments, VM groups and key ages', async (t) => {
      const b = await openBackend(t, backend);
      if (!b) return;
      try {
        const ps = new PolicyStore(b.store.db);
        await ps.assign('folder', 'prod', 'gold');
        await ps.assign('folder', 'prod', 'silver');
        await ps.assign('tag', 'db', 'gold');
        assert.deepEqual(await ps.assignments(), [
          { kind: 'folder', target: 'prod', policy: 'silver' },
          { kind: 'tag', target: 'db', policy: 'gold' },
        ]);
        assert.equal(await ps.unassign('tag', 'db'), true);
        assert.equal(await ps.unassign('tag', 'db'), false);

        await ps.setGroups('web1', { folder: 'prod/web', tags: ['a', 'b'] });
        await ps.setGroups('web1', { folder: null, tags: ['c'] });
        assert.deepEqual([...(await ps.groups())], [['web1', { folder: null, tags: ['c'] }]]);

        const k = { keyProviderId: 'kms1', keyId: 'k1' };
        const first = await ps.keySince('web1', k);
        assert.equal(await ps.keySince('web1', k), first);
        const other = await ps.keySince('web1', { keyProviderId: 'kms1', keyId: 'k2' });
        assert.ok(other >= first);
        // Back to the first key: a new period starts.
        assert.ok((await ps.keySince('web1', k)) >= other);
      } finally {
        await b.done();
      }
    });
  });
}
