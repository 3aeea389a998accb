import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { NBD_ERROR_CODES, NbdError, errnoOf } from './errors.js';
import { NBD_ERRNO } from './protocol.js';

test('every error code is documented in docs/nbd.md', () => {
  const doc = readFileSync(new URL('../../../docs/nbd.md', import.meta.url), 'utf8');
  for (const code of Object.keys(NBD_ERROR_CODES)) assert.ok(doc.includes(`\`${code}\``), code);
});

test('errors map to NBD error values', () => {
  assert.equal(errnoOf(new NbdError('read_only', 'x')), NBD_ERRNO.EPERM);
  assert.equal(errnoOf(new NbdError('too_large', 'x')), NBD_ERRNO.EOVERFLOW);
  assert.equal(errnoOf(Object.assign(new Error('disk full'), { code: 'ENOSPC' })), NBD_ERRNO.ENOSPC);
  assert.equal(errnoOf(Object.assign(new Error('x'), { code: 'EBADF' })), NBD_ERRNO.EIO);
  assert.equal(errnoOf('weird'), NBD_ERRNO.EIO);
});
