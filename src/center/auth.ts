/**
 * Authentication and authorization: password login issues a session token, `token create` an API
 * token; only SHA-256 of a token is stored. Every privileged call goes through `authorize`, which
 * audits each denial.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { CenterError } from './errors.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { ROLE_PRIVILEGES, roleHas, type Privilege, type Role } from './privileges.js';
import type { RequestContext } from './routes.js';
import type { CenterStore, TokenRecord } from './store/index.js';

export const TOKEN_PREFIX = 'cvt_';

export interface Principal {
  readonly user: string;
  readonly role: Role;
  readonly tokenId: string;
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

// A hash verified when the user does not exist, so a login takes as long either way.
let dummyHash: Promise<string> | undefined;
function dummy(): Promise<string> {
  dummyHash ??= hashPassword('not a password of anyone');
  return dummyHash;
}

export class Auth {
  constructor(
    private readonly store: CenterStore,
    private readonly sessionHours: number,
  ) {}

  /** Issues a token of `kind` for user; returns the secret once (only its hash is kept). */
  async issueToken(
    user: string,
    kind: TokenRecord['kind'],
    label: string,
    expiresAt: Date | null,
  ): Promise<{ id: string; token: string; expiresAt: string | null }> {
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const rec: TokenRecord = {
      id: randomUUID(),
      userName: user,
      label,
      kind,
      tokenHash: tokenHash(token),
      createdAt: new Date().toISOString(),
      expiresAt: expiresAt ? expiresAt.toISOString() : null,
    };
    await this.store.addToken(rec);
    return { id: rec.id, token, expiresAt: rec.expiresAt };
  }

  /** Checks a password; the same error whether the user or the password was wrong. */
  async login(
    user: string,
    password: string,
  ): Promise<{ token: string; id: string; expiresAt: string | null; role: Role }> {
    const u = await this.store.findUser(user);
    const ok = await verifyPassword(password, u?.passwordHash ?? (await dummy()));
    if (!u || !ok) throw new CenterError('login_failed', 'wrong user name or password');
    const issued = await this.issueToken(
      u.name,
      'session',
      'login',
      new Date(Date.now() + this.sessionHours * 3600_000),
    );
    return { ...issued, role: u.role };
  }

  /** The principal of an `Authorization: Bearer` header. */
  async authenticate(header: string | undefined): Promise<Principal> {
    const m = /^Bearer ([A-Za-z0-9_-]{1,200})$/.exec(header ?? '');
    if (!m) throw new CenterError('not_authenticated', 'this call needs a bearer token (cryptvisor login)');
    const rec = await this.store.findTokenByHash(tokenHash(m[1]!));
    if (!rec || (rec.expiresAt !== null && Date.parse(rec.expiresAt) <= Date.now())) {
      throw new CenterError('not_authenticated', 'the token is unknown or expired; log in again');
    }
    const u = await this.store.getUser(rec.userName);
    return { user: u.name, role: u.role, tokenId: rec.id };
  }

  /** Throws permission_denied (and audits it) unless the principal's role holds the privilege. */
  async authorize(p: Principal, privilege: Privilege, action: string, target: string): Promise<void> {
    if (roleHas(p.role, privilege)) return;
    await this.store.appendAudit({
      actor: p.user,
      action,
      target,
      result: 'denied',
      detail: { privilege, role: p.role },
    });
    throw new CenterError(
      'permission_denied',
      `user ${p.user} (role ${p.role}) lacks the privilege ${privilege}`,
    );
  }

  privileges(role: Role): readonly Privilege[] {
    return ROLE_PRIVILEGES[role];
  }
}

/** Runs a successful call's work, then appends its audit record (denials are audited by authorize). */
export async function audited<T>(
  c: RequestContext,
  action: string,
  target: string,
  fn: () => Promise<T>,
): Promise<T> {
  const v = await fn();
  await c.svc.store.appendAudit({ actor: c.principal.user, action, target, result: 'ok' });
  return v;
}
