/**
 * The store side of an agent certificate renewal: a host's pending fingerprint is recorded,
 * promoted only while it is still the pending one, and forgotten; on SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { CenterStore } from '../../src/center/store/index.js';
import { needPg } from '../support/peers.js';

const fp = (b: string): string => `${b}:`.repeat(31) + b;

async function open(t: TestContext, backend: string): Promise<{ store: CenterStore; cleanup(): Promise<void> } | undefined> {
  if (backend === 'sqlite') {
    const dir = await mkdtemp(join(tmpdir(), 'center-pending-'));
    return { store: await CenterStore.open({ dataDir: dir }), cleanup: () => rm(dir, { recursive: true, force: true }) };
  }
  const url = needPg(t);
  if (!url) return undefined;
  const u = new URL(url);
  u.searchParams.set('schema', `center_pending_${randomBytes(6).toString('hex')}`);
  return { store: await CenterStore.open({ dataDir: '/nonexistent', database: u.toString() }), cleanup: async () => undefined };
}

for (const backend of ['sqlite', 'postgres']) {
  describe(`host pending fingerprint (${backend})`, () => {
    it('is recorded, promoted only while still pending, and forgotten', async (t) => {
      const b = await open(t, backend);
      if (!b) return;
      const s = b.store;
      try {
        const h = await s.addHost({ name: 'h1', url: 'https://127.0.0.1:1', fingerprint: fp('AA'), hostId: 'id-1', hostKeyProviderId: null, hostKeyId: null });
        assert.equal(h.pendingFingerprint, null);
        assert.equal((await s.getHost('h1')).pendingFingerprint, null);
        await s.setHostPendingFingerprint('h1', fp('BB'));
        assert.equal((await s.getHost('h1')).pendingFingerprint, fp('BB'));
        assert.equal(await s.promoteHostFingerprint('h1', fp('CC')), false, 'not the pending one');
        assert.equal((await s.getHost('h1')).fingerprint, fp('AA'));
        assert.equal(await s.promoteHostFingerprint('h1', fp('BB')), true);
        const p = await s.getHost('h1');
        assert.equal(p.fingerprint, fp('BB'));
        assert.equal(p.pendingFingerprint, null);
        assert.equal(await s.promoteHostFingerprint('h1', fp('BB')), false, 'already promoted');
        await s.setHostPendingFingerprint('h1', fp('DD'));
        await s.setHostPendingFingerprint('h1', null);
        assert.deepEqual(
          (await s.listHosts()).map((x) => [x.fingerprint, x.pendingFingerprint]),
          [[fp('BB'), null]],
        );
        await assert.rejects(s.setHostPendingFingerprint('nope', fp('EE')), { code: 'host_not_found' });
      } finally {
        await s.close();
        await b.cleanup();
      }
    });
  });
}
