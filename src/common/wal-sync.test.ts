import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { WalSync } from './wal-sync.js';

async function withDb(fn: (db: Database.Database, wal: WalSync) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'cv-wal-sync-'));
  const file = join(dir, 'x.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE t (v INTEGER)');
  const wal = new WalSync(file);
  try {
    await fn(db, wal);
  } finally {
    await wal.close();
    db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

test('concurrent writers share fdatasyncs: 50 commits cost at most two', async () => {
  await withDb(async (db, wal) => {
    const ins = db.prepare('INSERT INTO t VALUES (?)');
    const waits: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) {
      ins.run(i);
      waits.push(wal.sync());
    }
    await Promise.all(waits);
    assert.ok(wal.count >= 1 && wal.count <= 2, `${wal.count} syncs`);
  });
});

test('a writer arriving while a sync runs gets a later sync, not the running one', async () => {
  await withDb(async (db, wal) => {
    db.prepare('INSERT INTO t VALUES (1)').run();
    const first = wal.sync();
    await new Promise((r) => setImmediate(r)); // the first sync has started
    db.prepare('INSERT INTO t VALUES (2)').run();
    const second = wal.sync();
    assert.notEqual(first, second);
    await Promise.all([first, second]);
    assert.equal(wal.count, 2);
  });
});

test('a WAL file that was replaced (the database closed and reopened) is reopened by inode', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cv-wal-sync-'));
  const file = join(dir, 'x.db');
  const wal = new WalSync(file);
  const open = (): Database.Database => {
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec('CREATE TABLE IF NOT EXISTS t (v INTEGER)');
    return db;
  };
  try {
    let db = open();
    db.prepare('INSERT INTO t VALUES (1)').run();
    await wal.sync();
    db.close(); // the last connection removes the WAL
    db = open();
    db.prepare('INSERT INTO t VALUES (2)').run();
    await wal.sync();
    db.close();
    assert.equal(wal.count, 2);
  } finally {
    await wal.close();
    await rm(dir, { recursive: true, force: true });
  }
});
