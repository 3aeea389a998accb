import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CENTER_ERROR_KINDS } from './errors.js';
import { CRYPTO_PRIVILEGES, OTHER_PRIVILEGES, ROLES, ROLE_PRIVILEGES } from './privileges.js';

const DOC = readFileSync(new URL('../../../docs/center.md', import.meta.url), 'utf8');

test('the 14 cryptographic privileges, each held by Administrator and Cryptographer and by no NoCryptoAdmin', () => {
  assert.equal(CRYPTO_PRIVILEGES.length, 14);
  for (const p of CRYPTO_PRIVILEGES) {
    assert.ok(ROLE_PRIVILEGES.Administrator.includes(p));
    assert.ok(ROLE_PRIVILEGES.Cryptographer.includes(p));
    assert.ok(!ROLE_PRIVILEGES.NoCryptoAdmin.includes(p));
  }
  assert.deepEqual(
    ROLE_PRIVILEGES.Operator.filter((p) => p.startsWith('Cryptographer.')),
    [],
  );
});

test('docs/center.md shows exactly the role table of privileges.ts', () => {
  for (const p of [...CRYPTO_PRIVILEGES, ...OTHER_PRIVILEGES]) {
    const row = DOC.split('\n').find((l) => l.split('|')[1]?.trim() === p);
    assert.ok(row, `no row for ${p}`);
    const cells = row
      .split('|')
      .slice(2, 2 + ROLES.length)
      .map((c) => c.trim());
    assert.deepEqual(
      cells,
      ROLES.map((r) => (ROLE_PRIVILEGES[r].includes(p) ? '✓' : '')),
      p,
    );
  }
});

test('every error code is documented in docs/center.md', () => {
  for (const code of Object.keys(CENTER_ERROR_KINDS)) assert.ok(DOC.includes(code), code);
});
