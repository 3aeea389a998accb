import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentError } from './errors.js';
import { MAX_DISKS, checkDiskSize, growExtent, nextDiskId } from './disks.js';

const code = (c: string) => (err: unknown) => err instanceof AgentError && err.code === c;

test('disk sizes are positive multiples of 4096', () => {
  assert.equal(checkDiskSize(8192), 8192);
  for (const bad of [0, -4096, 4097, 1.5, '4096', null, undefined, 2 ** 60])
    assert.throws(() => checkDiskSize(bad), code('invalid_request'));
});

test('a new disk takes the smallest free disk-N, up to the limit', () => {
  assert.equal(nextDiskId([]), 'disk-0');
  assert.equal(nextDiskId([{ id: 'disk-0' }, { id: 'disk-2' }]), 'disk-1');
  const full = Array.from({ length: MAX_DISKS }, (_, i) => ({ id: `disk-${i}` }));
  assert.throws(() => nextDiskId(full), code('invalid_request'));
});

test('a raw extent grows sparse and never shrinks', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cv-disks-unit-'));
  try {
    const p = join(dir, 'x-flat.img');
    await writeFile(p, Buffer.alloc(4096, 7));
    await growExtent(p, 'raw', 4096, 1 << 20);
    assert.equal((await stat(p)).size, 1 << 20);
    await assert.rejects(growExtent(p, 'raw', 1 << 20, 4096), code('invalid_request'));
    // A "LUKS2" extent that is not one fails in describeImage, before anything changes.
    await assert.rejects(growExtent(p, 'luks2', 1 << 20, 2 << 20));
    assert.equal((await stat(p)).size, 1 << 20);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
