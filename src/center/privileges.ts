/**
 * Roles and privileges. The 14 cryptographic privileges are those of vSphere's "Cryptographic
 * operations" group; the others are the non-cryptographic privileges center needs.
 */
export const CRYPTO_PRIVILEGES = [
  'Cryptographer.Access',
  'Cryptographer.AddDisk',
  'Cryptographer.Clone',
  'Cryptographer.Decrypt',
  'Cryptographer.Encrypt',
  'Cryptographer.EncryptNew',
  'Cryptographer.ManageEncryptionPolicy',
  'Cryptographer.ManageKeyServers',
  'Cryptographer.ManageKeys',
  'Cryptographer.Migrate',
  'Cryptographer.ReadKeyServersInfo',
  'Cryptographer.Recrypt',
  'Cryptographer.RegisterHost',
  'Cryptographer.RegisterVM',
] as const;

export const OTHER_PRIVILEGES = [
  'System.Read',
  'VirtualMachine.PowerOps',
  'VirtualMachine.Inventory',
  'Host.Inventory',
  'Users.Manage',
  'Tokens.ManageOwn',
  'Audit.Read',
] as const;

export type Privilege = (typeof CRYPTO_PRIVILEGES)[number] | (typeof OTHER_PRIVILEGES)[number];

export const ROLES = [
  'Administrator',
  'NoCryptoAdmin',
  'Cryptographer',
  'Operator',
  'ReadOnly',
  'Auditor',
] as const;
export type Role = (typeof ROLES)[number];

const ALL: readonly Privilege[] = [...CRYPTO_PRIVILEGES, ...OTHER_PRIVILEGES];

/** The role table (documented in docs/center.md; a test checks the two agree). */
export const ROLE_PRIVILEGES: Readonly<Record<Role, readonly Privilege[]>> = Object.freeze({
  Administrator: ALL,
  // vSphere's "No cryptography administrator": everything but the Cryptographer.* privileges.
  NoCryptoAdmin: OTHER_PRIVILEGES,
  Cryptographer: [
    ...CRYPTO_PRIVILEGES,
    'System.Read',
    'VirtualMachine.PowerOps',
    'VirtualMachine.Inventory',
    'Tokens.ManageOwn',
  ],
  Operator: ['System.Read', 'VirtualMachine.PowerOps', 'Tokens.ManageOwn'],
  ReadOnly: ['System.Read', 'Tokens.ManageOwn'],
  Auditor: ['System.Read', 'Audit.Read', 'Cryptographer.ReadKeyServersInfo', 'Tokens.ManageOwn'],
});

export function isRole(v: unknown): v is Role {
  return typeof v === 'string' && (ROLES as readonly string[]).includes(v);
}

export function roleHas(role: Role, privilege: Privilege): boolean {
  return ROLE_PRIVILEGES[role].includes(privilege);
}
