// Every CryptoError code is documented in docs/crypto.md, and codes map to their kinds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CRYPTO_ERROR_CODES, CryptoError, type CryptoErrorCode } from './errors.js';

test('every code is in the table of docs/crypto.md with its kind', () => {
  const doc = readFileSync(new URL('../../../docs/crypto.md', import.meta.url), 'utf8');
  for (const [code, info] of Object.entries(CRYPTO_ERROR_CODES)) {
    assert.match(doc, new RegExp(`\\| \`${code}\` \\| ${info.kind} \\|`), code);
  }
});

test('a CryptoError carries its code, kind, exit code and a public form without the cause', () => {
  for (const code of Object.keys(CRYPTO_ERROR_CODES) as CryptoErrorCode[]) {
    const e = new CryptoError(code, 'msg', { cause: new Error('inner detail') });
    assert.equal(e.code, code);
    assert.equal(e.kind, CRYPTO_ERROR_CODES[code].kind);
    assert.ok(e.exitCode > 0);
    assert.deepEqual(e.toJSON(), { code, message: 'msg' });
  }
});
