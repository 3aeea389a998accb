import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RootKey } from '../root-key.js';
import { StoreError } from './errors.js';
import { openStore } from './open.js';
import { assertNoStore, storeExists } from './backend.js';
import { SCHEMA_VERSION, SQLITE_MIGRATIONS } from './schema.js';
import { SQLITE_FILE, SqliteStore, migrateSqlite } from './sqlite.js';
import { sampleObject, storeContract } from './store-contract.js';
import { toRow } from './record.js';

async function tmp(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cv-sqlite-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

storeContract('sqlite', async (t) => {
  const dir = await tmp(t);
  const raw = (fn: (db: Database.Database) => unknown): unknown => {
    const db = new Database(join(dir, SQLITE_FILE));
    try {
      return fn(db);
    } finally {
      db.close();
    }
  };
  return {
    open: async (rootKey) => SqliteStore.open({ dataDir: dir, rootKey }),
    rawMaterial: async (id) =>
      (
        raw((db) => db.prepare('SELECT material FROM objects WHERE id = ?').get(id)) as {
          material: Buffer | null;
        }
      ).material,
    setRawMaterial: async (id, blob) => {
      raw((db) => db.prepare('UPDATE objects SET material = ? WHERE id = ?').run(blob, id));
    },
  };
});

test('sqlite: WAL mode, a 0600 database, and no plaintext key bytes anywhere in its files', async (t) => {
  const dir = await tmp(t);
  const rootKey = RootKey.fromBytes(new Uint8Array(32).fill(3));
  const store = await openStore({ dataDir: dir, rootKey });
  const objs = Array.from({ length: 50 }, () => sampleObject());
  await Promise.all(objs.map((o) => store.insert(o)));
  const files = (await readdir(dir)).filter((f) => f.startsWith(SQLITE_FILE));
  assert.ok(files.includes(`${SQLITE_FILE}-wal`), 'WAL file present');
  const bytes = Buffer.concat(await Promise.all(files.map((f) => readFile(join(dir, f)))));
  for (const o of objs)
    assert.equal(bytes.indexOf(Buffer.from(o.material as Uint8Array).subarray(0, 12)), -1);
  assert.equal((await stat(join(dir, SQLITE_FILE))).mode & 0o777, 0o600);
  await store.close();
});

test('sqlite: a v1 database is migrated forward on open; a newer one is refused', async (t) => {
  const dir = await tmp(t);
  const rootKey = RootKey.fromBytes(new Uint8Array(32).fill(4));
  const db = new Database(join(dir, SQLITE_FILE));
  migrateSqlite(db, 1);
  assert.equal(SQLITE_MIGRATIONS.length, SCHEMA_VERSION);
  const o = sampleObject({ names: ['legacy', 'second'] });
  const row = toRow(o, rootKey);
  const now = new Date().toISOString();
  db.prepare(
    `INSERT INTO objects (id, object_type, state, owner, names, algorithm, attributes, material, revision, created_at, updated_at)
     VALUES (@id, @object_type, @state, @owner, @names, @algorithm, @attributes, @material, @revision, @now, @now)`,
  ).run({ ...row, now });
  assert.equal((db.prepare('SELECT version FROM schema_version').get() as { version: number }).version, 1);
  db.close();

  const store = await openStore({ dataDir: dir, rootKey });
  assert.deepEqual(await store.locate({ name: 'second' }), [o.id]);
  assert.deepEqual((await store.get(o.id))?.material, Buffer.from(o.material as Uint8Array));
  await store.appendAudit([{ identity: 'CN=a', operation: 'Get', result: 'Success' }]);
  await store.close();

  const check = new Database(join(dir, SQLITE_FILE));
  assert.equal(
    (check.prepare('SELECT version FROM schema_version').get() as { version: number }).version,
    SCHEMA_VERSION,
  );
  check.prepare('UPDATE schema_version SET version = ?').run(SCHEMA_VERSION + 1);
  check.close();
  await assert.rejects(
    openStore({ dataDir: dir, rootKey }),
    (e: unknown) => e instanceof StoreError && e.code === 'schema_too_new',
  );
});

test('sqlite: storeExists / assertNoStore see an existing store', async (t) => {
  const dir = await tmp(t);
  assert.equal(await storeExists({ dataDir: dir }), false);
  await assertNoStore({ dataDir: dir });
  const store = await openStore({ dataDir: dir, rootKey: RootKey.fromBytes(new Uint8Array(32)) });
  await store.close();
  assert.equal(await storeExists({ dataDir: dir }), true);
  await assert.rejects(
    assertNoStore({ dataDir: dir }),
    (e: unknown) => e instanceof StoreError && e.code === 'store_exists',
  );
});

test('sqlite: every insert that resolved survives a SIGKILL of the writing process', async (t) => {
  const dir = await tmp(t);
  const open = new URL('./open.js', import.meta.url).href;
  const rk = new URL('../root-key.js', import.meta.url).href;
  const code = `
    import { openStore } from '${open}';
    import { RootKey } from '${rk}';
    const store = await openStore({ dataDir: process.env.CV_DIR, rootKey: RootKey.fromBytes(new Uint8Array(32).fill(8)) });
    let n = 0;
    const writer = async (w) => {
      for (;;) {
        const id = 'w' + w + '-' + n++;
        await store.insert({ id, objectType: 'SymmetricKey', state: 'Active', owner: 'CN=a', names: [], algorithm: 'AES',
          attributes: {}, material: new Uint8Array(32).fill(1), revision: 1 });
        process.stdout.write(id + '\\n');
      }
    };
    for (let w = 0; w < 16; w++) void writer(w);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
    env: { ...process.env, CV_DIR: dir },
  });
  const acked: string[] = [];
  let buf = '';
  await new Promise<void>((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      acked.push(...lines);
      if (acked.length >= 300 && child.exitCode === null && !child.killed) child.kill('SIGKILL');
    });
    child.on('exit', () => resolve());
  });
  assert.ok(acked.length >= 300, `the writer ran (${acked.length} acks)`);
  const store = await openStore({ dataDir: dir, rootKey: RootKey.fromBytes(new Uint8Array(32).fill(8)) });
  try {
    const present = new Set(await store.locate({}));
    const lost = acked.filter((id) => !present.has(id));
    assert.deepEqual(lost, [], 'no acknowledged insert is lost');
  } finally {
    await store.close();
  }
});
