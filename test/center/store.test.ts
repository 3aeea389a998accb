/** The contract of center's store, run against SQLite and PostgreSQL (a schema per test run). */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { CenterStore } from '../../src/center/store/index.js';
import { needPg } from '../support/peers.js';

type Opener = (
  t: TestContext,
) => Promise<{ open(): Promise<CenterStore>; cleanup(): Promise<void> } | undefined>;

const BACKENDS: Record<string, Opener> = {
  sqlite: async () => {
    const dir = await mkdtemp(join(tmpdir(), 'center-store-'));
    return {
      open: () => CenterStore.open({ dataDir: dir }),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  },
  postgres: async (t) => {
    const url = needPg(t);
    if (!url) return undefined;
    const u = new URL(url);
    u.searchParams.set('schema', `center_t_${randomBytes(6).toString('hex')}`);
    return {
      open: () => CenterStore.open({ dataDir: '/nonexistent', database: u.toString() }),
      cleanup: async () => undefined,
    };
  },
};

for (const [name, opener] of Object.entries(BACKENDS)) {
  describe(`center store contract (${name})`, () => {
    it('users: create, find, role, password, remove; the last Administrator stays', async (t) => {
      const b = await opener(t);
      if (!b) return;
      const s = await b.open();
      try {
        await s.createUser('admin', 'Administrator', 'h1');
        await s.createUser('bob', 'ReadOnly', 'h2');
        await assert.rejects(s.createUser('bob', 'Operator', 'x'), { code: 'user_exists' });
        assert.deepEqual(
          (await s.listUsers()).map((u) => [u.name, u.role]),
          [
            ['admin', 'Administrator'],
            ['bob', 'ReadOnly'],
          ],
        );
        assert.equal((await s.setRole('bob', 'Operator')).role, 'Operator');
        await assert.rejects(s.setRole('admin', 'ReadOnly'), { code: 'last_administrator' });
        await assert.rejects(s.removeUser('admin'), { code: 'last_administrator' });
        await assert.rejects(s.removeUser('nobody'), { code: 'user_not_found' });
        await s.addToken({
          id: 't1',
          userName: 'bob',
          label: 'login',
          kind: 'session',
          tokenHash: 'aa',
          createdAt: 'x',
          expiresAt: null,
        });
        await s.addToken({
          id: 't2',
          userName: 'bob',
          label: 'ci',
          kind: 'api',
          tokenHash: 'bb',
          createdAt: 'y',
          expiresAt: null,
        });
        await s.setPasswordHash('bob', 'h3');
        assert.equal((await s.getUser('bob')).passwordHash, 'h3');
        assert.deepEqual(
          (await s.listTokens('bob')).map((x) => x.id),
          ['t2'],
          'a new password ends login sessions, not API tokens',
        );
        await s.removeUser('bob');
        assert.equal(await s.findTokenByHash('bb'), undefined, 'tokens go with their user');
        assert.equal(await s.findUser('bob'), undefined);
      } finally {
        await s.close();
        await b.cleanup();
      }
    });

    it('tokens: add, find by hash, revoke', async (t) => {
      const b = await opener(t);
      if (!b) return;
      const s = await b.open();
      try {
        await s.createUser('admin', 'Administrator', 'h');
        await s.addToken({
          id: 'id1',
          userName: 'admin',
          label: 'x',
          kind: 'api',
          tokenHash: 'f'.repeat(64),
          createdAt: '2026-01-01T00:00:00Z',
          expiresAt: '2027-01-01T00:00:00Z',
        });
        assert.equal((await s.findTokenByHash('f'.repeat(64)))?.expiresAt, '2027-01-01T00:00:00Z');
        await s.removeToken('id1');
        await assert.rejects(s.removeToken('id1'), { code: 'token_not_found' });
        await assert.rejects(s.getToken('id1'), { code: 'token_not_found' });
      } finally {
        await s.close();
        await b.cleanup();
      }
    });

    it('audit: a hash chain that survives reopening and detects an edited record', async (t) => {
      const b = await opener(t);
      if (!b) return;
      let s = await b.open();
      try {
        // Concurrent appends still form one chain (the driver serializes transactions).
        await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            s.appendAudit({ actor: 'admin', action: 'test', target: `vm${i}`, result: 'ok', detail: { i } }),
          ),
        );
        await s.close();
        s = await b.open();
        assert.deepEqual(await s.verifyAudit(), { records: 20, brokenAt: null });
        const recs = await s.listAudit();
        assert.equal(recs.length, 20);
        assert.equal(recs[5]!.prevHash, recs[4]!.hash);
      } finally {
        await s.close();
        await b.cleanup();
      }
    });
  });
}
