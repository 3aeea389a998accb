import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { silentLogger } from '../../common/logging.js';
import { Checkpointer } from './checkpointer.js';

test('the worker thread checkpoints, a main-thread catch-up bounds the WAL, and every row survives', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cv-ckpt-'));
  const file = join(dir, 'kms.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('wal_autocheckpoint = 0');
  db.pragma('journal_size_limit = 262144');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)');
  let expected = -1;
  const ckpt = new Checkpointer(file, silentLogger(), () => db.pragma('wal_checkpoint(PASSIVE)'), {
    everyOps: 20,
    maxWalBytes: 512 * 1024,
  });
  try {
    const ins = db.prepare('INSERT INTO t (v) VALUES (?)');
    const batch = db.transaction((n: number) => {
      for (let i = 0; i < n; i++) ins.run(Buffer.alloc(2000, i));
    });
    // Write until the worker has reported a WAL over the bound and the main thread caught up; the
    // worker's answers arrive between batches, as on the KMS's event loop (however slow the machine).
    let rows = 0;
    const deadline = Date.now() + 60_000;
    while (ckpt.inlined === 0 && Date.now() < deadline) {
      batch(10);
      rows += 10;
      ckpt.committed(10);
      await new Promise((r) => setTimeout(r, 1));
    }
    assert.ok(ckpt.completed > 0, 'the worker ran checkpoints');
    assert.ok(ckpt.inlined > 0, 'the main thread caught up');
    // The next write restarts the WAL from its beginning, and journal_size_limit cuts the file.
    batch(1);
    rows += 1;
    assert.ok(statSync(`${file}-wal`).size <= 512 * 1024, `WAL of ${statSync(`${file}-wal`).size} bytes`);
    expected = rows;
  } finally {
    await ckpt.close();
    db.close();
  }
  const again = new Database(file, { readonly: true });
  try {
    assert.equal((again.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, expected);
  } finally {
    again.close();
    await rm(dir, { recursive: true, force: true });
  }
});
