/**
 * center's store: users, tokens and the hash-chained audit log, over SQLite or PostgreSQL through
 * one SQL driver, so both backends share one implementation and one contract test.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { CenterError } from '../errors.js';
import { isRole, type Role } from '../privileges.js';
import { openPostgres, openSqlite, type Row, type SqlDriver } from './driver.js';
import { migrate } from './schema.js';
import type {
  AuditInput,
  AuditRecord,
  HostRecord,
  ProviderRecord,
  TokenRecord,
  UserRecord,
} from './types.js';

export const GENESIS_HASH = '0'.repeat(64);

function text(row: Row, col: string): string {
  const v = row[col];
  if (typeof v !== 'string')
    throw new CenterError('store_invalid', `center's database has a malformed ${col}`);
  return v;
}

function toUser(row: Row): UserRecord {
  const role = text(row, 'role');
  if (!isRole(role)) throw new CenterError('store_invalid', "center's database names an unknown role");
  return {
    name: text(row, 'name'),
    role,
    passwordHash: text(row, 'password_hash'),
    createdAt: text(row, 'created_at'),
  };
}

function toToken(row: Row): TokenRecord {
  const kind = text(row, 'kind');
  return {
    id: text(row, 'id'),
    userName: text(row, 'user_name'),
    label: text(row, 'label'),
    kind: kind === 'api' ? 'api' : 'session',
    tokenHash: text(row, 'token_hash'),
    createdAt: text(row, 'created_at'),
    expiresAt: typeof row['expires_at'] === 'string' ? row['expires_at'] : null,
  };
}

function toAudit(row: Row): AuditRecord {
  return {
    seq: Number(row['seq']),
    at: text(row, 'at'),
    actor: text(row, 'actor'),
    action: text(row, 'action'),
    target: text(row, 'target'),
    result: text(row, 'result'),
    detail: text(row, 'detail'),
    prevHash: text(row, 'prev_hash'),
    hash: text(row, 'hash'),
  };
}

function toProvider(row: Row): ProviderRecord {
  let servers: unknown;
  try {
    servers = JSON.parse(text(row, 'servers'));
  } catch (err) {
    throw new CenterError('store_invalid', "center's database has malformed provider servers", {
      cause: err,
    });
  }
  if (!Array.isArray(servers))
    throw new CenterError('store_invalid', "center's database has malformed provider servers");
  return {
    name: text(row, 'name'),
    isDefault: Number(row['is_default']) === 1,
    ca: text(row, 'ca'),
    servers: servers as ProviderRecord['servers'],
    identity: text(row, 'identity') === 'provider' ? 'provider' : 'center-client',
    createdAt: text(row, 'created_at'),
  };
}

function toHost(row: Row): HostRecord {
  const opt = (k: string): string | null => (typeof row[k] === 'string' ? (row[k] as string) : null);
  return {
    name: text(row, 'name'),
    url: text(row, 'url'),
    fingerprint: text(row, 'fingerprint'),
    hostId: text(row, 'host_id'),
    hostKeyProviderId: opt('host_key_provider'),
    hostKeyId: opt('host_key_id'),
    pendingFingerprint: opt('pending_fingerprint'),
    createdAt: text(row, 'created_at'),
  };
}

/** The hash of one audit record, chained to the previous one. */
export function auditHash(r: Omit<AuditRecord, 'hash'>): string {
  const canonical = JSON.stringify([r.seq, r.at, r.actor, r.action, r.target, r.result, r.detail]);
  return createHash('sha256').update(r.prevHash).update(canonical).digest('hex');
}

export interface OpenCenterStoreOptions {
  /** SQLite lives in dataDir/center.db unless `database` is a postgres:// URL. */
  readonly dataDir: string;
  readonly database?: string | undefined;
}

export class CenterStore {
  private constructor(
    /** The SQL driver, for modules that keep their own tables (tasks, policies). */
    readonly db: SqlDriver,
  ) {}

  static async open(opts: OpenCenterStoreOptions): Promise<CenterStore> {
    const db = opts.database
      ? await openPostgres(opts.database)
      : openSqlite(join(opts.dataDir, 'center.db'));
    try {
      await migrate(db);
    } catch (err) {
      await db.close();
      throw err;
    }
    return new CenterStore(db);
  }

  get dialect(): 'sqlite' | 'postgres' {
    return this.db.dialect;
  }

  close(): Promise<void> {
    return this.db.close();
  }

  // --- users

  async createUser(name: string, role: Role, passwordHash: string): Promise<UserRecord> {
    return this.db.transaction(async () => {
      if (await this.findUser(name)) throw new CenterError('user_exists', `user ${name} exists`);
      const createdAt = new Date().toISOString();
      await this.db.run('INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)', [
        name,
        role,
        passwordHash,
        createdAt,
      ]);
      return { name, role, passwordHash, createdAt };
    });
  }

  async findUser(name: string): Promise<UserRecord | undefined> {
    const rows = await this.db.all('SELECT * FROM users WHERE name = ?', [name]);
    return rows[0] ? toUser(rows[0]) : undefined;
  }

  async getUser(name: string): Promise<UserRecord> {
    const u = await this.findUser(name);
    if (!u) throw new CenterError('user_not_found', `no user ${name}`);
    return u;
  }

  async listUsers(): Promise<UserRecord[]> {
    return (await this.db.all('SELECT * FROM users ORDER BY name')).map(toUser);
  }

  /** Refuses to remove or demote the last Administrator. */
  private async keepAnAdministrator(name: string): Promise<void> {
    const admins = (await this.db.all("SELECT name FROM users WHERE role = 'Administrator'")).map((r) =>
      text(r, 'name'),
    );
    if (admins.length === 1 && admins[0] === name)
      throw new CenterError('last_administrator', 'the last Administrator cannot be removed or demoted');
  }

  async removeUser(name: string): Promise<void> {
    await this.db.transaction(async () => {
      await this.getUser(name);
      await this.keepAnAdministrator(name);
      await this.db.run('DELETE FROM tokens WHERE user_name = ?', [name]);
      await this.db.run('DELETE FROM users WHERE name = ?', [name]);
    });
  }

  async setRole(name: string, role: Role): Promise<UserRecord> {
    return this.db.transaction(async () => {
      const u = await this.getUser(name);
      if (role !== 'Administrator') await this.keepAnAdministrator(name);
      await this.db.run('UPDATE users SET role = ? WHERE name = ?', [role, name]);
      return { ...u, role };
    });
  }

  /** Sets a new password hash and ends the user's login sessions (API tokens stay). */
  async setPasswordHash(name: string, passwordHash: string): Promise<void> {
    await this.db.transaction(async () => {
      await this.getUser(name);
      await this.db.run('UPDATE users SET password_hash = ? WHERE name = ?', [passwordHash, name]);
      await this.db.run("DELETE FROM tokens WHERE user_name = ? AND kind = 'session'", [name]);
    });
  }

  // --- tokens

  async addToken(t: TokenRecord): Promise<void> {
    await this.db.run(
      'INSERT INTO tokens (id, user_name, label, kind, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [t.id, t.userName, t.label, t.kind, t.tokenHash, t.createdAt, t.expiresAt],
    );
  }

  async findTokenByHash(tokenHash: string): Promise<TokenRecord | undefined> {
    const rows = await this.db.all('SELECT * FROM tokens WHERE token_hash = ?', [tokenHash]);
    return rows[0] ? toToken(rows[0]) : undefined;
  }

  async listTokens(userName?: string): Promise<TokenRecord[]> {
    const rows = userName
      ? await this.db.all('SELECT * FROM tokens WHERE user_name = ? ORDER BY created_at, id', [userName])
      : await this.db.all('SELECT * FROM tokens ORDER BY created_at, id');
    return rows.map(toToken);
  }

  async getToken(id: string): Promise<TokenRecord> {
    const rows = await this.db.all('SELECT * FROM tokens WHERE id = ?', [id]);
    if (!rows[0]) throw new CenterError('token_not_found', `no token ${id}`);
    return toToken(rows[0]);
  }

  async removeToken(id: string): Promise<void> {
    if ((await this.db.run('DELETE FROM tokens WHERE id = ?', [id])) === 0)
      throw new CenterError('token_not_found', `no token ${id}`);
  }

  // --- key providers

  /** Adds a provider; the first one becomes the default. */
  async addProvider(p: Omit<ProviderRecord, 'isDefault' | 'createdAt'>): Promise<ProviderRecord> {
    return this.db.transaction(async () => {
      if (await this.findProvider(p.name))
        throw new CenterError('provider_exists', `key provider ${p.name} exists`);
      const isDefault = (await this.db.all('SELECT name FROM key_providers LIMIT 1')).length === 0;
      const rec: ProviderRecord = { ...p, isDefault, createdAt: new Date().toISOString() };
      await this.db.run(
        'INSERT INTO key_providers (name, is_default, ca, servers, identity, created_at) VALUES (?, ?, ?, ?, ?, ?)',
        [rec.name, isDefault ? 1 : 0, rec.ca, JSON.stringify(rec.servers), rec.identity, rec.createdAt],
      );
      return rec;
    });
  }

  async findProvider(name: string): Promise<ProviderRecord | undefined> {
    const rows = await this.db.all('SELECT * FROM key_providers WHERE name = ?', [name]);
    return rows[0] ? toProvider(rows[0]) : undefined;
  }

  async getProvider(name: string): Promise<ProviderRecord> {
    const p = await this.findProvider(name);
    if (!p) throw new CenterError('provider_not_found', `no key provider ${name}`);
    return p;
  }

  async defaultProvider(): Promise<ProviderRecord> {
    const rows = await this.db.all('SELECT * FROM key_providers WHERE is_default = 1');
    if (!rows[0])
      throw new CenterError(
        'provider_not_found',
        'there is no default key provider (cryptvisor provider add)',
      );
    return toProvider(rows[0]);
  }

  async listProviders(): Promise<ProviderRecord[]> {
    return (await this.db.all('SELECT * FROM key_providers ORDER BY name')).map(toProvider);
  }

  async updateProvider(
    name: string,
    change: { ca?: string; servers?: ProviderRecord['servers']; identity?: ProviderRecord['identity'] },
  ): Promise<ProviderRecord> {
    return this.db.transaction(async () => {
      const p = await this.getProvider(name);
      const next = { ...p, ...change };
      await this.db.run('UPDATE key_providers SET ca = ?, servers = ?, identity = ? WHERE name = ?', [
        next.ca,
        JSON.stringify(next.servers),
        next.identity,
        name,
      ]);
      return next;
    });
  }

  async setDefaultProvider(name: string): Promise<void> {
    await this.db.transaction(async () => {
      await this.getProvider(name);
      await this.db.run('UPDATE key_providers SET is_default = 0');
      await this.db.run('UPDATE key_providers SET is_default = 1 WHERE name = ?', [name]);
    });
  }

  async removeProvider(name: string): Promise<void> {
    await this.db.transaction(async () => {
      const p = await this.getProvider(name);
      await this.db.run('DELETE FROM key_providers WHERE name = ?', [name]);
      if (p.isDefault) {
        const next = (
          await this.db.all('SELECT name FROM key_providers ORDER BY created_at, name LIMIT 1')
        )[0];
        if (next)
          await this.db.run('UPDATE key_providers SET is_default = 1 WHERE name = ?', [text(next, 'name')]);
      }
    });
  }

  // --- hosts

  async addHost(h: Omit<HostRecord, 'createdAt' | 'pendingFingerprint'>): Promise<HostRecord> {
    return this.db.transaction(async () => {
      if (await this.findHost(h.name)) throw new CenterError('host_exists', `host ${h.name} exists`);
      const rec: HostRecord = { ...h, pendingFingerprint: null, createdAt: new Date().toISOString() };
      await this.db.run(
        'INSERT INTO hosts (name, url, fingerprint, host_id, host_key_provider, host_key_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        [rec.name, rec.url, rec.fingerprint, rec.hostId, rec.hostKeyProviderId, rec.hostKeyId, rec.createdAt],
      );
      return rec;
    });
  }

  async findHost(name: string): Promise<HostRecord | undefined> {
    const rows = await this.db.all('SELECT * FROM hosts WHERE name = ?', [name]);
    return rows[0] ? toHost(rows[0]) : undefined;
  }

  async getHost(name: string): Promise<HostRecord> {
    const h = await this.findHost(name);
    if (!h) throw new CenterError('host_not_found', `no host ${name}`);
    return h;
  }

  async listHosts(): Promise<HostRecord[]> {
    return (await this.db.all('SELECT * FROM hosts ORDER BY name')).map(toHost);
  }

  async setHostKey(name: string, keyProviderId: string, keyId: string): Promise<void> {
    await this.db.run('UPDATE hosts SET host_key_provider = ?, host_key_id = ? WHERE name = ?', [
      keyProviderId,
      keyId,
      name,
    ]);
  }

  /** Records (or, with null, forgets) the fingerprint of a renewed agent certificate not yet promoted. */
  async setHostPendingFingerprint(name: string, fingerprint: string | null): Promise<void> {
    if ((await this.db.run('UPDATE hosts SET pending_fingerprint = ? WHERE name = ?', [fingerprint, name])) === 0)
      throw new CenterError('host_not_found', `no host ${name}`);
  }

  /**
   * Makes the pending fingerprint the pinned one, if it is still `fingerprint`; true when it did
   * (false: already promoted, or another renewal replaced it).
   */
  async promoteHostFingerprint(name: string, fingerprint: string): Promise<boolean> {
    const n = await this.db.run(
      'UPDATE hosts SET fingerprint = pending_fingerprint, pending_fingerprint = NULL WHERE name = ? AND pending_fingerprint = ?',
      [name, fingerprint],
    );
    return n > 0;
  }

  async removeHost(name: string): Promise<void> {
    if ((await this.db.run('DELETE FROM hosts WHERE name = ?', [name])) === 0)
      throw new CenterError('host_not_found', `no host ${name}`);
  }

  // --- VMs (center's inventory: which host runs a VM and its policy; the rest lives on the agent)

  async addVm(name: string, host: string, policy: string | null): Promise<void> {
    await this.db.run('INSERT INTO vms (name, host, policy, created_at) VALUES (?, ?, ?, ?)', [
      name,
      host,
      policy,
      new Date().toISOString(),
    ]);
  }

  async listVms(): Promise<{ name: string; host: string; policy: string | null }[]> {
    return (await this.db.all('SELECT name, host, policy FROM vms ORDER BY name')).map((r) => ({
      name: text(r, 'name'),
      host: text(r, 'host'),
      policy: typeof r['policy'] === 'string' ? r['policy'] : null,
    }));
  }

  // --- audit

  async appendAudit(input: AuditInput): Promise<AuditRecord> {
    return this.db.transaction(async () => {
      const last = (await this.db.all('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1'))[0];
      const base = {
        seq: last ? Number(last['seq']) + 1 : 1,
        at: new Date().toISOString(),
        actor: input.actor,
        action: input.action,
        target: input.target,
        result: input.result,
        detail: JSON.stringify(input.detail ?? {}),
        prevHash: last ? text(last, 'hash') : GENESIS_HASH,
      };
      const rec: AuditRecord = { ...base, hash: auditHash(base) };
      await this.db.run(
        'INSERT INTO audit (seq, at, actor, action, target, result, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [rec.seq, rec.at, rec.actor, rec.action, rec.target, rec.result, rec.detail, rec.prevHash, rec.hash],
      );
      return rec;
    });
  }

  async listAudit(opts: { afterSeq?: number; limit?: number } = {}): Promise<AuditRecord[]> {
    const rows = await this.db.all('SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?', [
      opts.afterSeq ?? 0,
      opts.limit ?? 1000,
    ]);
    return rows.map(toAudit);
  }

  /** Walks the chain; returns the first broken record's seq, or null if the chain holds. */
  async verifyAudit(): Promise<{ records: number; brokenAt: number | null }> {
    let prev = GENESIS_HASH;
    let count = 0;
    let after = 0;
    for (;;) {
      const page = await this.listAudit({ afterSeq: after, limit: 1000 });
      if (page.length === 0) return { records: count, brokenAt: null };
      for (const r of page) {
        count++;
        if (r.seq !== count || r.prevHash !== prev || auditHash(r) !== r.hash)
          return { records: count, brokenAt: r.seq };
        prev = r.hash;
      }
      after = page[page.length - 1]!.seq;
    }
  }

  /** Every text cell of every table, for tests that scan the database for key bytes. */
  async dumpText(): Promise<string[]> {
    const out: string[] = [];
    const tables = ['center_meta', 'users', 'tokens', 'audit', 'key_providers', 'hosts', 'vms'];
    for (const table of [...tables, 'tasks', 'task_steps']) {
      for (const row of await this.db.all(`SELECT * FROM ${table}`))
        for (const v of Object.values(row)) out.push(String(v));
    }
    return out;
  }
}
