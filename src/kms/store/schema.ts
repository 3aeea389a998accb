/**
 * The store schema, versioned: migration N (1-based) takes a database from version N-1 to N.
 * `schema_version` holds one row with the current version; a store opens a database of any older
 * version and migrates it forward in one transaction, and refuses a newer one.
 *
 * v1: objects (names as a JSON column).
 * v2: object_names (the Locate index on names, filled from v1's JSON), an index on type/state,
 *     and the audit table.
 */
export const SCHEMA_VERSION = 2;

export const SQLITE_MIGRATIONS: readonly (readonly string[])[] = [
  [
    `CREATE TABLE objects (
       seq INTEGER PRIMARY KEY AUTOINCREMENT,
       id TEXT NOT NULL UNIQUE,
       object_type TEXT NOT NULL,
       state TEXT NOT NULL,
       owner TEXT NOT NULL,
       names TEXT NOT NULL,
       algorithm TEXT,
       attributes TEXT NOT NULL,
       material BLOB,
       revision INTEGER NOT NULL,
       created_at TEXT NOT NULL,
       updated_at TEXT NOT NULL)`,
    `CREATE INDEX objects_owner ON objects(owner)`,
  ],
  [
    `CREATE TABLE object_names (
       object_seq INTEGER NOT NULL REFERENCES objects(seq),
       name TEXT NOT NULL,
       PRIMARY KEY (name, object_seq)) WITHOUT ROWID`,
    `INSERT INTO object_names (object_seq, name) SELECT DISTINCT o.seq, j.value FROM objects o, json_each(o.names) j`,
    `CREATE INDEX objects_type_state ON objects(object_type, state)`,
    `CREATE TABLE audit (
       seq INTEGER PRIMARY KEY AUTOINCREMENT,
       at TEXT NOT NULL,
       identity TEXT NOT NULL,
       operation TEXT NOT NULL,
       object_id TEXT,
       result TEXT NOT NULL,
       reason TEXT)`,
  ],
];

export const PG_MIGRATIONS: readonly (readonly string[])[] = [
  [
    `CREATE TABLE objects (
       seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
       id TEXT NOT NULL UNIQUE,
       object_type TEXT NOT NULL,
       state TEXT NOT NULL,
       owner TEXT NOT NULL,
       names TEXT NOT NULL,
       algorithm TEXT,
       attributes TEXT NOT NULL,
       material BYTEA,
       revision INTEGER NOT NULL,
       created_at TIMESTAMPTZ NOT NULL,
       updated_at TIMESTAMPTZ NOT NULL)`,
    `CREATE INDEX objects_owner ON objects(owner)`,
  ],
  [
    `CREATE TABLE object_names (
       object_seq BIGINT NOT NULL REFERENCES objects(seq),
       name TEXT NOT NULL,
       PRIMARY KEY (name, object_seq))`,
    `INSERT INTO object_names (object_seq, name) SELECT DISTINCT o.seq, j.value FROM objects o, jsonb_array_elements_text(o.names::jsonb) AS j(value)`,
    `CREATE INDEX objects_type_state ON objects(object_type, state)`,
    `CREATE TABLE audit (
       seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
       at TIMESTAMPTZ NOT NULL,
       identity TEXT NOT NULL,
       operation TEXT NOT NULL,
       object_id TEXT,
       result TEXT NOT NULL,
       reason TEXT)`,
  ],
];
