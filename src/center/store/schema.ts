/**
 * center's database schema, versioned. Each migration is a list of statements valid in both
 * SQLite and PostgreSQL; `migrate` applies the missing ones in one transaction on start.
 * center stores key references only ({keyProviderId, keyId}), never key material.
 */
import { CenterError } from '../errors.js';
import type { SqlDriver } from './driver.js';
import { POLICY_MIGRATION } from './policy-store.js';

export const MIGRATIONS: readonly (readonly string[])[] = [
  [
    'CREATE TABLE IF NOT EXISTS center_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)',
    `CREATE TABLE users (
       name TEXT PRIMARY KEY,
       role TEXT NOT NULL,
       password_hash TEXT NOT NULL,
       created_at TEXT NOT NULL)`,
    `CREATE TABLE tokens (
       id TEXT PRIMARY KEY,
       user_name TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
       label TEXT NOT NULL,
       kind TEXT NOT NULL,
       token_hash TEXT NOT NULL UNIQUE,
       created_at TEXT NOT NULL,
       expires_at TEXT)`,
    `CREATE TABLE audit (
       seq BIGINT PRIMARY KEY,
       at TEXT NOT NULL,
       actor TEXT NOT NULL,
       action TEXT NOT NULL,
       target TEXT NOT NULL,
       result TEXT NOT NULL,
       detail TEXT NOT NULL,
       prev_hash TEXT NOT NULL,
       hash TEXT NOT NULL)`,
  ],
  [
    `CREATE TABLE key_providers (
       name TEXT PRIMARY KEY,
       is_default INTEGER NOT NULL,
       ca TEXT NOT NULL,
       servers TEXT NOT NULL,
       identity TEXT NOT NULL,
       created_at TEXT NOT NULL)`,
  ],
  [
    `CREATE TABLE hosts (
       name TEXT PRIMARY KEY,
       url TEXT NOT NULL,
       fingerprint TEXT NOT NULL,
       host_id TEXT NOT NULL,
       host_key_provider TEXT,
       host_key_id TEXT,
       created_at TEXT NOT NULL)`,
  ],
  ['CREATE TABLE vms (name TEXT PRIMARY KEY, host TEXT NOT NULL, policy TEXT, created_at TEXT NOT NULL)'],
  [
    `CREATE TABLE tasks (
       id TEXT PRIMARY KEY,
       kind TEXT NOT NULL,
       target TEXT NOT NULL,
       actor TEXT NOT NULL,
       state TEXT NOT NULL,
       progress_done BIGINT NOT NULL,
       progress_total BIGINT NOT NULL,
       progress_message TEXT,
       params TEXT NOT NULL,
       result TEXT,
       error TEXT,
       created_at TEXT NOT NULL,
       updated_at TEXT NOT NULL)`,
    'CREATE INDEX tasks_state ON tasks (state)',
    `CREATE TABLE task_steps (
       task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
       name TEXT NOT NULL,
       result TEXT,
       created_at TEXT NOT NULL,
       PRIMARY KEY (task_id, name))`,
  ],
  [
    `CREATE TABLE alarms (
       id TEXT PRIMARY KEY,
       kind TEXT NOT NULL,
       target TEXT NOT NULL,
       severity TEXT NOT NULL,
       message TEXT NOT NULL,
       raised_at TEXT NOT NULL,
       updated_at TEXT NOT NULL,
       cleared_at TEXT)`,
    'CREATE INDEX alarms_active ON alarms (kind, target, cleared_at)',
  ],
  POLICY_MIGRATION,
  // An agent certificate renewal in progress: the renewed certificate's fingerprint, accepted
  // alongside `fingerprint` until center promotes it (hosts.ts, docs/center.md "Certificate renewal").
  ['ALTER TABLE hosts ADD COLUMN pending_fingerprint TEXT'],
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the schema forward to SCHEMA_VERSION; refuses a database made by a newer center. */
export async function migrate(db: SqlDriver): Promise<number> {
  return db.transaction(async () => {
    await db.run('CREATE TABLE IF NOT EXISTS center_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)');
    const rows = await db.all("SELECT value FROM center_meta WHERE name = 'schema_version'");
    const from = rows[0] ? Number(rows[0]['value']) : 0;
    if (!Number.isInteger(from) || from < 0)
      throw new CenterError('store_invalid', "center's database has an unreadable schema version");
    if (from > SCHEMA_VERSION)
      throw new CenterError(
        'schema_too_new',
        `database schema v${from} is newer than this center (v${SCHEMA_VERSION})`,
      );
    for (let v = from; v < SCHEMA_VERSION; v++) {
      for (const sql of MIGRATIONS[v] ?? []) await db.run(sql);
    }
    if (from < SCHEMA_VERSION) {
      await db.run("DELETE FROM center_meta WHERE name = 'schema_version'");
      await db.run("INSERT INTO center_meta (name, value) VALUES ('schema_version', ?)", [
        String(SCHEMA_VERSION),
      ]);
    }
    return SCHEMA_VERSION;
  });
}
