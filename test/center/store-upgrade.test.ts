/**
 * An upgrade: a center database made by the first schema version (users, tokens, audit) is
 * migrated forward when a newer center opens it, keeping its rows; a database from a newer center
 * is refused.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { hashPassword } from '../../src/center/passwords.js';
import { CenterStore, MIGRATIONS, SCHEMA_VERSION } from '../../src/center/store/index.js';
import { openSqlite } from '../../src/center/store/driver.js';

test('a version-1 center database is migrated forward with its rows; a newer one is refused', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cv-center-upgrade-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const old = openSqlite(join(dir, 'center.db'));
  for (const sql of MIGRATIONS[0] ?? []) await old.run(sql);
  await old.run("INSERT INTO center_meta (name, value) VALUES ('schema_version', '1')");
  await old.run('INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)', [
    'admin',
    'Administrator',
    await hashPassword('an-old-password'),
    '2026-01-01T00:00:00.000Z',
  ]);
  await old.close();

  const store = await CenterStore.open({ dataDir: dir });
  const version = await store.db.all("SELECT value FROM center_meta WHERE name = 'schema_version'");
  assert.equal(Number(version[0]?.['value']), SCHEMA_VERSION);
  assert.ok(SCHEMA_VERSION > 1);
  assert.deepEqual((await store.listUsers()).map((u) => [u.name, u.role]), [['admin', 'Administrator']]);
  assert.deepEqual(await store.listHosts(), [], 'tables of later versions exist');
  assert.deepEqual(await store.listVms(), []);
  await store.db.run("UPDATE center_meta SET value = ? WHERE name = 'schema_version'", [String(SCHEMA_VERSION + 1)]);
  await store.close();

  await assert.rejects(CenterStore.open({ dataDir: dir }), { code: 'schema_too_new' });
});
