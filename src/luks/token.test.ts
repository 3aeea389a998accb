import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getToken, setToken } from './token.js';
import { LuksError } from './errors.js';
import { fixedKey, TEST_TOKEN, testHeader } from './test-fixtures.js';

test('the cryptvisor token is created, replaced in place and may have null fields', async () => {
  const { header } = await testHeader(fixedKey('token'));
  assert.deepEqual(getToken(header), TEST_TOKEN);
  assert.deepEqual(header.json.tokens['0'], { type: 'cryptvisor', keyslots: [], ...TEST_TOKEN });
  const none = { keyProviderId: null, keyId: null, wrappedKey: null };
  const updated = setToken(header, none);
  assert.deepEqual(getToken(updated), none);
  assert.deepEqual(Object.keys(updated.json.tokens), ['0']);
  assert.deepEqual(getToken(header), TEST_TOKEN, 'setToken does not change its input');
  const other = {
    ...header,
    json: { ...header.json, tokens: { '0': { type: 'systemd-tpm2', keyslots: [] } } },
  };
  assert.equal(getToken(other), null);
  assert.deepEqual(Object.keys(setToken(other, none).json.tokens), ['0', '1']);
});

test('token fields must be null or non-empty strings', async () => {
  const { header } = await testHeader(fixedKey('token'));
  for (const bad of [
    { ...TEST_TOKEN, keyId: '' },
    { ...TEST_TOKEN, wrappedKey: 5 as unknown as string },
  ]) {
    assert.throws(
      () => setToken(header, bad),
      (e: unknown) => e instanceof LuksError && e.code === 'schema_invalid',
    );
  }
});
