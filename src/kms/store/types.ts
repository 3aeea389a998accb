/**
 * The contract between the KMS service and its store (docs/kms-storage.md).
 *
 * The service owns the meaning of objects (KMIP types, states, attributes); the store owns
 * persistence, durability and sealing: material is plaintext in memory and sealed under the
 * root key (AES-256-GCM, object id as associated data) before it is written.
 */
import type { Logger } from '../../common/logging.js';
import type { RootKey } from '../root-key.js';

export interface StoredObject {
  /** KMIP Unique Identifier (the service makes it: a UUID). */
  readonly id: string;
  /** KMIP enum name: 'SymmetricKey' | 'SecretData' | 'OpaqueObject' | 'PublicKey' | 'PrivateKey' | 'Certificate' | ... */
  readonly objectType: string;
  /** 'PreActive' | 'Active' | 'Deactivated' | 'Compromised' | 'Destroyed' | 'DestroyedCompromised' */
  readonly state: string;
  /** Creator identity (TLS client certificate subject). */
  readonly owner: string;
  /** Values of the Name attribute(s), for Locate. */
  readonly names: readonly string[];
  /** Cryptographic Algorithm enum name, for Locate. */
  readonly algorithm: string | null;
  /** JSON document owned by the service (no secrets in it); the store does not interpret it. */
  readonly attributes: unknown;
  /**
   * PLAINTEXT key material/value in memory; the store seals it before writing and unseals on
   * read; null once Destroyed. Every read returns a fresh buffer the caller may zero.
   */
  readonly material: Uint8Array | null;
  /** Optimistic concurrency; starts at 1. */
  readonly revision: number;
}

/** Filters are ANDed; `name` matches any of an object's names exactly. Ids come in creation order. */
export interface LocateFilter {
  readonly objectType?: string;
  readonly state?: string;
  readonly name?: string;
  readonly algorithm?: string;
  readonly owner?: string;
  readonly offset?: number;
  readonly limit?: number;
}

/** One audit record (src/kms/audit.ts): never key material. */
export interface AuditRecord {
  readonly identity: string;
  readonly operation: string;
  readonly objectId?: string;
  /** 'Success' | 'OperationFailed' | ... (KMIP Result Status name) */
  readonly result: string;
  /** KMIP Result Reason name or a short reason text. */
  readonly reason?: string;
}

/** An audit record as stored, with its sequence number and time (ISO 8601, UTC). */
export interface StoredAuditRecord extends AuditRecord {
  readonly seq: number;
  readonly at: string;
}

export interface KmsStore {
  /** 'sqlite' or 'postgres'. */
  readonly kind: 'sqlite' | 'postgres';
  /**
   * Durable (committed, fsync'd per the durability mode) before the promise resolves;
   * group-commits concurrent writers. StoreError('exists') if the id is taken. `audit`, if given,
   * is appended in the same transaction when (and only when) the insert succeeds, with
   * objectId = obj.id: an operation's record is durable with its write, at no extra commit.
   */
  insert(obj: StoredObject, audit?: AuditRecord): Promise<void>;
  get(id: string): Promise<StoredObject | undefined>;
  /**
   * Replaces the object iff its stored revision === obj.revision - 1; else throws
   * StoreError('conflict') (or StoreError('not_found') if there is no such object). Durable on resolve.
   * `audit` as for insert.
   */
  update(obj: StoredObject, audit?: AuditRecord): Promise<void>;
  locate(filter: LocateFilter): Promise<string[]>;
  /** Every object, for backup and export; streamed in creation order. */
  all(): AsyncIterable<StoredObject>;
  /** Appends audit records in one durable transaction (used by AuditLog). */
  appendAudit(records: readonly AuditRecord[]): Promise<void>;
  /** Audit records with seq > afterSeq, oldest first. */
  listAudit(opts?: { afterSeq?: number; limit?: number }): Promise<StoredAuditRecord[]>;
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  readonly dataDir: string;
  /** postgres://... or undefined = SQLite in dataDir/kms.db. A `schema` query parameter selects a PostgreSQL schema. */
  readonly database?: string;
  readonly rootKey: RootKey;
  readonly logger?: Logger;
  /** Group-commit window: how long the first writer of a batch waits for others (ms, default 0 = next tick). */
  readonly groupCommitMs?: number;
  /** 'fsync' (default): SQLite synchronous=FULL, PostgreSQL synchronous_commit=on. 'process': NORMAL / off. */
  readonly durability?: Durability;
}

/** What a backend offers beyond the contract, for root-key rotation (src/kms/store/rotate.ts). */
export interface StoreBackend extends KmsStore {
  /**
   * Re-seals up to `limit` objects whose blob names another root key than the current sealing
   * key, in one transaction; returns how many it re-sealed (0 when done).
   */
  resealBatch(limit: number): Promise<number>;
}

/** Durability of a commit: 'fsync' (default) survives power loss; 'process' survives a process crash only. */
export type Durability = 'fsync' | 'process';
