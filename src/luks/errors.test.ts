import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { LUKS_ERROR_CODES, LuksError } from './errors.js';

test('every LuksError code is documented in docs/luks.md and has a kind', () => {
  const doc = readFileSync(new URL('../../../docs/luks.md', import.meta.url), 'utf8');
  for (const code of LUKS_ERROR_CODES) {
    assert.ok(doc.includes(`\`${code}\``), `docs/luks.md documents ${code}`);
    const e = new LuksError(code, 'x');
    assert.ok(e.exitCode > 0 && e.httpStatus >= 400);
  }
});
