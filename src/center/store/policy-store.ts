/**
 * The SQL of encryption policies (docs/center.md, "Policies"): the policies an operator made (the
 * built-in one is a constant in policies.ts), their assignments to folders and tags, the folder
 * and tags of each VM, and when each VM got its current KEK (for scheduled rotation). A VM's own
 * policy is the `policy` column of center's `vms` table. Only key references and the escrow
 * secret's ID are stored, never key material or a passphrase.
 */
import { CenterError } from '../errors.js';
import type { Row, SqlDriver, SqlValue } from './driver.js';

/** The schema of this file's tables: one element of MIGRATIONS (schema.ts). */
export const POLICY_MIGRATION: readonly string[] = [
  `CREATE TABLE policies (
     name TEXT PRIMARY KEY,
     key_provider TEXT,
     key_scope TEXT NOT NULL,
     shared_key_provider TEXT,
     shared_key_id TEXT,
     escrow_provider TEXT,
     escrow_id TEXT,
     rotate_days INTEGER,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL)`,
  `CREATE TABLE policy_assignments (
     kind TEXT NOT NULL,
     target TEXT NOT NULL,
     policy TEXT NOT NULL,
     created_at TEXT NOT NULL,
     PRIMARY KEY (kind, target))`,
  'CREATE TABLE vm_groups (vm TEXT PRIMARY KEY, folder TEXT, tags TEXT NOT NULL)',
  `CREATE TABLE vm_key_ages (
     vm TEXT PRIMARY KEY,
     key_provider TEXT NOT NULL,
     key_id TEXT NOT NULL,
     since TEXT NOT NULL)`,
];

export interface KeyReference {
  readonly keyProviderId: string;
  readonly keyId: string;
}

export type KeyScope = 'vm' | 'shared';
export type GroupKind = 'folder' | 'tag';

/** A stored policy. `keyProvider` null means the default provider at the time of use. */
export interface PolicyRecord {
  readonly name: string;
  readonly keyProvider: string | null;
  readonly keyScope: KeyScope;
  /** The one KEK of a shared-scope policy, made on first use. */
  readonly sharedKey: KeyReference | null;
  /** Where the escrow passphrase is kept: a KMIP Secret Data object at a provider. */
  readonly escrow: { readonly keyProviderId: string; readonly secretId: string } | null;
  readonly rotateDays: number | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface Assignment {
  readonly kind: GroupKind;
  readonly target: string;
  readonly policy: string;
}

export interface VmGroups {
  readonly folder: string | null;
  readonly tags: readonly string[];
}

const str = (r: Row, c: string): string | null => (typeof r[c] === 'string' ? (r[c] as string) : null);

function ref(provider: string | null, id: string | null): KeyReference | null {
  return provider && id ? { keyProviderId: provider, keyId: id } : null;
}

function toPolicy(r: Row): PolicyRecord {
  const escrowProvider = str(r, 'escrow_provider');
  const escrowId = str(r, 'escrow_id');
  const days = r['rotate_days'];
  return {
    name: String(r['name']),
    keyProvider: str(r, 'key_provider'),
    keyScope: r['key_scope'] === 'shared' ? 'shared' : 'vm',
    sharedKey: ref(str(r, 'shared_key_provider'), str(r, 'shared_key_id')),
    escrow: escrowProvider && escrowId ? { keyProviderId: escrowProvider, secretId: escrowId } : null,
    rotateDays: days === null || days === undefined ? null : Number(days),
    createdAt: String(r['created_at']),
    updatedAt: String(r['updated_at']),
  };
}

function columns(p: Omit<PolicyRecord, 'name' | 'createdAt' | 'updatedAt'>): SqlValue[] {
  return [
    p.keyProvider,
    p.keyScope,
    p.sharedKey?.keyProviderId ?? null,
    p.sharedKey?.keyId ?? null,
    p.escrow?.keyProviderId ?? null,
    p.escrow?.secretId ?? null,
    p.rotateDays,
  ];
}

export class PolicyStore {
  constructor(private readonly db: SqlDriver) {}

  async find(name: string): Promise<PolicyRecord | undefined> {
    const row = (await this.db.all('SELECT * FROM policies WHERE name = ?', [name]))[0];
    return row ? toPolicy(row) : undefined;
  }

  async list(): Promise<PolicyRecord[]> {
    return (await this.db.all('SELECT * FROM policies ORDER BY name')).map(toPolicy);
  }

  async create(p: Omit<PolicyRecord, 'createdAt' | 'updatedAt'>): Promise<PolicyRecord> {
    return this.db.transaction(async () => {
      if (await this.find(p.name)) throw new CenterError('policy_exists', `policy "${p.name}" exists`);
      const now = new Date().toISOString();
      await this.db.run(
        `INSERT INTO policies (name, key_provider, key_scope, shared_key_provider, shared_key_id,
           escrow_provider, escrow_id, rotate_days, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [p.name, ...columns(p), now, now],
      );
      return { ...p, createdAt: now, updatedAt: now };
    });
  }

  /** Replaces every field but the name and creation time. */
  async update(p: Omit<PolicyRecord, 'createdAt' | 'updatedAt'>): Promise<PolicyRecord> {
    const now = new Date().toISOString();
    const changed = await this.db.run(
      `UPDATE policies SET key_provider = ?, key_scope = ?, shared_key_provider = ?, shared_key_id = ?,
         escrow_provider = ?, escrow_id = ?, rotate_days = ?, updated_at = ? WHERE name = ?`,
      [...columns(p), now, p.name],
    );
    if (changed === 0) throw new CenterError('policy_not_found', `no policy "${p.name}"`);
    return (await this.find(p.name))!;
  }

  /**
   * Sets the shared KEK of a policy if it is still `expected` (compare and set, so two tasks never
   * make two shared keys); returns the key in force afterwards.
   */
  async setSharedKey(name: string, key: KeyReference, expected: KeyReference | null): Promise<KeyReference> {
    return this.db.transaction(async () => {
      const p = await this.find(name);
      if (!p) throw new CenterError('policy_not_found', `no policy "${name}"`);
      if ((p.sharedKey?.keyId ?? null) !== (expected?.keyId ?? null) && p.sharedKey) return p.sharedKey;
      await this.db.run('UPDATE policies SET shared_key_provider = ?, shared_key_id = ? WHERE name = ?', [
        key.keyProviderId,
        key.keyId,
        name,
      ]);
      return key;
    });
  }

  async assignments(): Promise<Assignment[]> {
    return (await this.db.all('SELECT kind, target, policy FROM policy_assignments ORDER BY kind, target')).map(
      (r) => ({ kind: r['kind'] === 'tag' ? 'tag' : 'folder', target: String(r['target']), policy: String(r['policy']) }),
    );
  }

  async assign(kind: GroupKind, target: string, policy: string): Promise<void> {
    await this.db.transaction(async () => {
      await this.db.run('DELETE FROM policy_assignments WHERE kind = ? AND target = ?', [kind, target]);
      await this.db.run('INSERT INTO policy_assignments (kind, target, policy, created_at) VALUES (?, ?, ?, ?)', [
        kind,
        target,
        policy,
        new Date().toISOString(),
      ]);
    });
  }

  async unassign(kind: GroupKind, target: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM policy_assignments WHERE kind = ? AND target = ?', [kind, target])) > 0;
  }

  async groups(): Promise<Map<string, VmGroups>> {
    const out = new Map<string, VmGroups>();
    for (const r of await this.db.all('SELECT vm, folder, tags FROM vm_groups')) {
      const tags = JSON.parse(String(r['tags'])) as unknown;
      out.set(String(r['vm']), {
        folder: str(r, 'folder'),
        tags: Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [],
      });
    }
    return out;
  }

  async setGroups(vm: string, g: VmGroups): Promise<void> {
    await this.db.transaction(async () => {
      await this.db.run('DELETE FROM vm_groups WHERE vm = ?', [vm]);
      await this.db.run('INSERT INTO vm_groups (vm, folder, tags) VALUES (?, ?, ?)', [
        vm,
        g.folder,
        JSON.stringify(g.tags),
      ]);
    });
  }

  /**
   * Since when a VM has had the KEK `key`: the recorded time if the recorded key is this one,
   * else now (recorded), so a key is first seen at the reconcile after it was set.
   */
  async keySince(vm: string, key: KeyReference): Promise<string> {
    return this.db.transaction(async () => {
      const row = (await this.db.all('SELECT key_provider, key_id, since FROM vm_key_ages WHERE vm = ?', [vm]))[0];
      if (row && row['key_provider'] === key.keyProviderId && row['key_id'] === key.keyId) return String(row['since']);
      const now = new Date().toISOString();
      await this.db.run('DELETE FROM vm_key_ages WHERE vm = ?', [vm]);
      await this.db.run('INSERT INTO vm_key_ages (vm, key_provider, key_id, since) VALUES (?, ?, ?, ?)', [
        vm,
        key.keyProviderId,
        key.keyId,
        now,
      ]);
      return now;
    });
  }
}
