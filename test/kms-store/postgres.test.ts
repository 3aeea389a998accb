/**
 * The store contract against a real PostgreSQL (CRYPTVISOR_TEST_PG; `bash .ci/pg` starts one).
 * Each test gets its own schema, dropped afterwards, so parallel runs do not collide.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { needPg } from '../support/peers.js';
import { RootKey } from '../../src/kms/root-key.js';
import { PgStore } from '../../src/kms/store/postgres.js';
import { StoreError } from '../../src/kms/store/errors.js';
import { openStore } from '../../src/kms/store/open.js';
import { storeExists } from '../../src/kms/store/backend.js';
import { rotateRootKey } from '../../src/kms/store/rotate.js';
import { backup, restore } from '../../src/kms/backup.js';
import { toRow } from '../../src/kms/store/record.js';
import { PG_MIGRATIONS, SCHEMA_VERSION } from '../../src/kms/store/schema.js';
import { sampleObject, storeContract } from '../../src/kms/store/store-contract.js';

function schemaUrl(base: string, schema: string): string {
  const u = new URL(base);
  u.searchParams.set('schema', schema);
  return u.toString();
}

async function withClient<T>(url: string, schema: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    if (schema) await c.query(`SET search_path TO ${schema}`);
    return await fn(c);
  } finally {
    await c.end();
  }
}

function newSchema(t: { after(fn: () => Promise<void>): void }, base: string): string {
  const schema = `cv_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  t.after(() =>
    withClient(base, '', (c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).then(() => undefined)),
  );
  return schema;
}

storeContract('postgres', async (t) => {
  const base = needPg(t);
  if (!base) return undefined;
  const schema = newSchema(t, base);
  const url = schemaUrl(base, schema);
  return {
    open: (rootKey) => PgStore.open({ url, rootKey }),
    rawMaterial: (id) =>
      withClient(
        base,
        schema,
        async (c) =>
          (await c.query('SELECT material FROM objects WHERE id = $1', [id])).rows[0]?.material ?? null,
      ),
    setRawMaterial: (id, blob) =>
      withClient(base, schema, async (c) => {
        await c.query('UPDATE objects SET material = $1 WHERE id = $2', [blob, id]);
      }),
  };
});

test('postgres: a v1 schema is migrated forward on open; a newer one is refused', async (t) => {
  const base = needPg(t);
  if (!base) return;
  const schema = newSchema(t, base);
  const rootKey = RootKey.fromBytes(new Uint8Array(32).fill(5));
  const o = sampleObject({ names: ['legacy', 'second'] });
  await withClient(base, '', async (c) => {
    await c.query(`CREATE SCHEMA ${schema}`);
    await c.query(`SET search_path TO ${schema}`);
    await c.query('CREATE TABLE schema_version (version INTEGER NOT NULL)');
    for (const sql of PG_MIGRATIONS[0] ?? []) await c.query(sql);
    await c.query('INSERT INTO schema_version VALUES (1)');
    const r = toRow(o, rootKey);
    await c.query(
      `INSERT INTO objects (id, object_type, state, owner, names, algorithm, attributes, material, revision, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now(), now())`,
      [r.id, r.object_type, r.state, r.owner, r.names, r.algorithm, r.attributes, r.material, r.revision],
    );
  });
  const url = schemaUrl(base, schema);
  assert.equal(await storeExists({ dataDir: '/nonexistent', database: url }), true);
  assert.equal(
    await storeExists({ dataDir: '/nonexistent', database: schemaUrl(base, 'cv_test_absent_schema') }),
    false,
  );
  const store = await openStore({ dataDir: '/nonexistent', database: url, rootKey });
  assert.deepEqual(await store.locate({ name: 'second' }), [o.id]);
  assert.deepEqual((await store.get(o.id))?.material, Buffer.from(o.material as Uint8Array));
  await store.close();
  await withClient(base, schema, async (c) => {
    assert.equal((await c.query('SELECT version FROM schema_version')).rows[0]?.version, SCHEMA_VERSION);
    await c.query('UPDATE schema_version SET version = $1', [SCHEMA_VERSION + 1]);
  });
  await assert.rejects(
    openStore({ dataDir: '/nonexistent', database: url, rootKey }),
    (e: unknown) => e instanceof StoreError && e.code === 'schema_too_new',
  );
});

test('postgres: two stores on one database (two KMS nodes) see the same objects', async (t) => {
  const base = needPg(t);
  if (!base) return;
  const url = schemaUrl(base, newSchema(t, base));
  const rootKey = RootKey.fromBytes(new Uint8Array(32).fill(6));
  const [a, b] = await Promise.all([
    openStore({ dataDir: '/x', database: url, rootKey }),
    openStore({ dataDir: '/y', database: url, rootKey }),
  ]);
  try {
    const o = sampleObject();
    await a.insert(o);
    assert.deepEqual((await b.get(o.id))?.material, Buffer.from(o.material as Uint8Array));
    await b.update({ ...o, state: 'Active', revision: 2 });
    await assert.rejects(
      a.update({ ...o, state: 'Destroyed', revision: 2 }),
      (e: unknown) => e instanceof StoreError && e.code === 'conflict',
    );
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('postgres: a bad URL or an unreachable server is a database_error without the password', async () => {
  await assert.rejects(
    openStore({ dataDir: '/x', database: 'mysql://a', rootKey: RootKey.fromBytes(new Uint8Array(32)) }),
    (e: unknown) => e instanceof StoreError && e.code === 'database_error',
  );
  await assert.rejects(
    openStore({
      dataDir: '/x',
      database: 'postgres://u:s3cret-pw@127.0.0.1:1/db',
      rootKey: RootKey.fromBytes(new Uint8Array(32)),
    }),
    (e: unknown) => e instanceof StoreError && e.code === 'database_error' && !e.message.includes('s3cret'),
  );
});

test('postgres: rotate-root-key re-seals every object; a backup restores into another schema', async (t) => {
  const base = needPg(t);
  if (!base) return;
  const dir = await mkdtemp(join(tmpdir(), 'cv-pg-rotate-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const url = schemaUrl(base, newSchema(t, base));
  const rootKey = await RootKey.create(dir);
  const store = await openStore({ dataDir: dir, database: url, rootKey });
  const objs = Array.from({ length: 40 }, () => sampleObject());
  await Promise.all(objs.map((o) => store.insert(o)));
  await store.close();
  rootKey.dispose();

  const r = await rotateRootKey({ dataDir: dir, database: url, batchSize: 15 });
  assert.equal(r.resealed, 40);
  const k2 = await RootKey.load(dir);
  assert.equal(k2.id, r.newRootKeyId);
  const s2 = await openStore({ dataDir: dir, database: url, rootKey: k2 });
  try {
    for (const o of objs)
      assert.deepEqual((await s2.get(o.id))?.material, Buffer.from(o.material as Uint8Array));
    await backup({ store: s2, rootKey: k2 }, join(dir, 'b'));
  } finally {
    await s2.close();
  }
  const other = schemaUrl(base, newSchema(t, base));
  assert.equal((await restore({ dataDir: dir, database: other }, join(dir, 'b'))).objects, 40);
  k2.dispose();
});
