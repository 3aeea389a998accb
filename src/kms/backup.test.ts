import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backup, restore } from './backup.js';
import { ROOT_KEY_FILE, RootKey } from './root-key.js';
import { StoreError } from './store/errors.js';
import { openStore } from './store/open.js';
import { sampleObject } from './store/store-contract.js';
import type { StoredObject } from './store/types.js';

const isCode = (code: string) => (e: unknown) => e instanceof StoreError && e.code === code;

async function tmp(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cv-backup-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function readAll(dataDir: string): Promise<StoredObject[]> {
  const rootKey = await RootKey.load(dataDir);
  const store = await openStore({ dataDir, rootKey });
  try {
    const out: StoredObject[] = [];
    for await (const o of store.all()) out.push(o);
    return out;
  } finally {
    await store.close();
    rootKey.dispose();
  }
}

test('backup and restore round-trip every object into an empty store with the same root key', async (t) => {
  const src = await tmp(t);
  const dst = await tmp(t);
  const work = await tmp(t);
  const rootKey = await RootKey.create(src);
  const store = await openStore({ dataDir: src, rootKey });
  const objs = [
    ...Array.from({ length: 600 }, (_, i) => sampleObject({ names: [`k-${i}`] })),
    sampleObject({ objectType: 'SecretData', algorithm: null, state: 'Destroyed', material: null }),
  ];
  await Promise.all(objs.map((o) => store.insert(o)));
  const file = join(work, 'kms.backup');
  const r = await backup({ store, rootKey }, file);
  assert.equal(r.objects, objs.length);
  assert.equal(r.rootKeyId, rootKey.id);
  await store.close();
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  const bytes = await readFile(file);
  for (const o of objs.slice(0, 50))
    if (o.material) assert.equal(bytes.indexOf(Buffer.from(o.material).subarray(0, 8)), -1);
  assert.equal(bytes.indexOf(Buffer.from('k-1')), -1, 'metadata is encrypted too');

  await copyFile(join(src, ROOT_KEY_FILE), join(dst, ROOT_KEY_FILE));
  const back = await restore({ dataDir: dst }, file);
  assert.equal(back.objects, objs.length);
  const restored = await readAll(dst);
  assert.deepEqual(
    restored,
    objs.map((o) => ({ ...o, material: o.material ? Buffer.from(o.material) : null })),
  );
  await assert.rejects(restore({ dataDir: dst }, file), isCode('store_not_empty'));

  // The same backup through the data-dir form.
  const file2 = join(work, 'again.backup');
  assert.equal((await backup({ dataDir: dst }, file2)).objects, objs.length);
});

test('a tampered, truncated or foreign backup is refused and nothing is restored', async (t) => {
  const src = await tmp(t);
  const work = await tmp(t);
  const rootKey = await RootKey.create(src);
  const store = await openStore({ dataDir: src, rootKey });
  await store.insert(sampleObject());
  const file = join(work, 'b');
  await backup({ store, rootKey }, file);
  await store.close();
  const good = await readFile(file);

  const fresh = async (): Promise<string> => {
    const d = await tmp(t);
    await copyFile(join(src, ROOT_KEY_FILE), join(d, ROOT_KEY_FILE));
    return d;
  };
  for (const i of [10, 40, Math.floor(good.length / 2), good.length - 1]) {
    const bad = Buffer.from(good);
    bad[i] = (bad[i] as number) ^ 0x20;
    await writeFile(join(work, 'bad'), bad);
    const d = await fresh();
    await assert.rejects(
      restore({ dataDir: d }, join(work, 'bad')),
      (e: unknown) => isCode('backup_invalid')(e) || isCode('root_key_unknown')(e),
    );
    assert.equal((await readAll(d)).length, 0);
  }
  await writeFile(join(work, 'short'), good.subarray(0, good.length - 5));
  await assert.rejects(restore({ dataDir: await fresh() }, join(work, 'short')), isCode('backup_invalid'));
  await writeFile(join(work, 'junk'), 'hello');
  await assert.rejects(restore({ dataDir: await fresh() }, join(work, 'junk')), isCode('backup_invalid'));
  await assert.rejects(restore({ dataDir: await fresh() }, join(work, 'missing')), isCode('not_found'));

  const stranger = await tmp(t);
  await RootKey.create(stranger);
  await assert.rejects(restore({ dataDir: stranger }, file), isCode('root_key_unknown'));
});
