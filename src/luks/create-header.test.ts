import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createLuks2Header, formatLuks2 } from './create-header.js';
import { readLuks2Header } from './read-header.js';
import { LuksError } from './errors.js';
import type { LuksErrorCode } from './errors.js';
import { segmentInfo } from './segment.js';
import { fixedKey, tempDir, TEST_TOKEN } from './test-fixtures.js';

const key = fixedKey('create');

function isCode(code: LuksErrorCode) {
  return (e: unknown): boolean => e instanceof LuksError && e.code === code;
}

test('formatLuks2 makes a sparse image of data offset plus payload and refuses to overwrite', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const path = join(dir, 'new.img');
    const opts = { volumeKey: key, token: TEST_TOKEN, digestIterations: 1000 };
    const header = await formatLuks2(path, 1 << 20, opts);
    const st = await stat(path);
    assert.equal(st.size, (16 << 20) + (1 << 20));
    assert.ok(st.blocks * 512 < 1 << 20, 'the payload is sparse');
    assert.equal(st.mode & 0o077, 0, 'the image is private to its owner');
    assert.deepEqual((await readLuks2Header(await readFile(path))).json, header.json);
    await assert.rejects(formatLuks2(path, 1 << 20, opts), isCode('image_exists'));
    await assert.rejects(formatLuks2(join(dir, 'b.img'), 1000, opts), isCode('schema_invalid'));
  } finally {
    await cleanup();
  }
});

test('createLuks2Header checks its options', async () => {
  const base = { volumeKey: key, token: TEST_TOKEN, digestIterations: 1000 };
  const fixed = await createLuks2Header({
    ...base,
    payloadSize: 8192,
    uuid: 'AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE',
    label: 'l',
    subsystem: 's',
  });
  assert.equal(segmentInfo(fixed.header).sizeBytes, 8192);
  assert.equal(fixed.header.uuid, 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee');
  await assert.rejects(createLuks2Header({ ...base, uuid: 'not-a-uuid' }), isCode('bad_header'));
  await assert.rejects(createLuks2Header({ ...base, label: 'x'.repeat(48) }), isCode('bad_header'));
  await assert.rejects(createLuks2Header({ ...base, payloadSize: 100 }), isCode('schema_invalid'));
  await assert.rejects(createLuks2Header({ ...base, digestIterations: 10 }), isCode('schema_invalid'));
  await assert.rejects(
    createLuks2Header({ ...base, volumeKey: fixedKey('x').slice(0, 32) }),
    isCode('key_invalid'),
  );
  await assert.rejects(
    createLuks2Header({ ...base, token: { ...TEST_TOKEN, keyId: '' } }),
    isCode('schema_invalid'),
  );
});
