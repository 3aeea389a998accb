import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { STORE_ERROR_KINDS, StoreError, type StoreErrorCode } from './errors.js';

test('every StoreError code is documented in docs/kms-storage.md with its kind', async () => {
  const doc = await readFile(new URL('../../../../docs/kms-storage.md', import.meta.url), 'utf8');
  for (const [code, kind] of Object.entries(STORE_ERROR_KINDS)) {
    assert.match(doc, new RegExp(`\\| \`${code}\` \\| ${kind} \\|`), code);
    const e = new StoreError(code as StoreErrorCode, 'm');
    assert.equal(e.kind, kind);
  }
});
