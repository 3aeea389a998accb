import { test } from 'node:test';
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AuditLog } from './audit.js';
import { RootKey } from './root-key.js';
import { openStore } from './store/open.js';
import { StoreError } from './store/errors.js';
import { SQLITE_FILE } from './store/sqlite.js';

test('audit: flush makes records durable; the timer flushes within 100 ms; close flushes the rest', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cv-audit-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const store = await openStore({ dataDir: dir, rootKey: RootKey.fromBytes(new Uint8Array(32)) });
  t.after(() => store.close());
  const audit = new AuditLog(store, { intervalMs: 50 });
  audit.append({ identity: 'CN=center', operation: 'Create', objectId: 'k1', result: 'Success' });
  audit.append({
    identity: 'CN=center',
    operation: 'Destroy',
    objectId: 'k1',
    result: 'OperationFailed',
    reason: 'x'.repeat(5000),
  });
  await audit.flush();
  const after = await store.listAudit();
  assert.equal(after.length, 2);
  assert.equal(after[1]?.reason?.length, 1024);

  audit.append({ identity: 'CN=center', operation: 'Get', objectId: 'k1', result: 'Success' });
  await sleep(200);
  assert.equal((await store.listAudit()).length, 3, 'timer flush');

  audit.append({ identity: 'CN=center', operation: 'Locate', result: 'Success' });
  await audit.close();
  assert.deepEqual(
    (await store.listAudit()).map((r) => r.operation),
    ['Create', 'Destroy', 'Get', 'Locate'],
  );
  assert.throws(() => audit.append({ identity: 'a', operation: 'b', result: 'c' }));
});

test('audit: a failed flush keeps the records for the next flush', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cv-audit-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const store = await openStore({ dataDir: dir, rootKey: RootKey.fromBytes(new Uint8Array(32)) });
  t.after(() => store.close());
  const admin = new Database(join(dir, SQLITE_FILE));
  t.after(() => admin.close());
  const audit = new AuditLog(store, { intervalMs: 10_000 });
  admin.exec('ALTER TABLE audit RENAME TO audit_away');
  audit.append({ identity: 'a', operation: 'Create', result: 'Success' });
  await assert.rejects(audit.flush(), (e: unknown) => e instanceof StoreError && e.code === 'database_error');
  audit.append({ identity: 'a', operation: 'Revoke', result: 'Success' });
  admin.exec('ALTER TABLE audit_away RENAME TO audit');
  await audit.close();
  assert.deepEqual(
    (await store.listAudit()).map((r) => r.operation),
    ['Create', 'Revoke'],
  );
});
