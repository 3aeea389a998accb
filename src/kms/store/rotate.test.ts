import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT_KEY_NEXT_FILE, RootKey } from '../root-key.js';
import { openBackend } from './backend.js';
import { openStore } from './open.js';
import { rotateRootKey } from './rotate.js';
import { SQLITE_FILE } from './sqlite.js';
import { sampleObject } from './store-contract.js';
import type { StoredObject } from './types.js';

const N = 120;

async function setup(t: {
  after(fn: () => Promise<void>): void;
}): Promise<{ dir: string; objs: StoredObject[]; oldId: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'cv-rotate-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const rootKey = await RootKey.create(dir);
  const store = await openStore({ dataDir: dir, rootKey });
  const objs = Array.from({ length: N }, (_, i) =>
    sampleObject(i % 10 === 9 ? { material: null, state: 'Destroyed' } : {}),
  );
  await Promise.all(objs.map((o) => store.insert(o)));
  await store.close();
  const oldId = rootKey.id;
  rootKey.dispose();
  return { dir, objs, oldId };
}

/** Reads every object back and compares it with what was inserted. */
async function assertAllReadable(
  dir: string,
  objs: readonly StoredObject[],
  finish: boolean,
): Promise<string> {
  const rootKey = await RootKey.load(dir);
  const store = finish
    ? await openStore({ dataDir: dir, rootKey })
    : await openBackend({ dataDir: dir, rootKey });
  try {
    for (const o of objs)
      assert.deepEqual((await store.get(o.id))?.material, o.material ? Buffer.from(o.material) : null);
    return rootKey.id;
  } finally {
    await store.close();
    rootKey.dispose();
  }
}

function blobKeyIds(dir: string): Set<string> {
  const db = new Database(join(dir, SQLITE_FILE), { readonly: true });
  try {
    const rows = db.prepare('SELECT material FROM objects WHERE material IS NOT NULL').all() as {
      material: Buffer;
    }[];
    return new Set(rows.map((r) => r.material.toString('hex', 1, 9)));
  } finally {
    db.close();
  }
}

/** Runs `body` in a child node process that SIGKILLs itself at the chosen point. */
function runChild(dir: string, body: string): void {
  const rk = new URL('../root-key.js', import.meta.url).href;
  const rot = new URL('./rotate.js', import.meta.url).href;
  const code = `import { RootKey } from '${rk}'; import { rotateRootKey } from '${rot}'; const dir = process.env.CV_DIR; ${body}`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    env: { ...process.env, CV_DIR: dir },
    encoding: 'utf8',
  });
  assert.equal(r.signal, 'SIGKILL', `child should have been killed: ${r.stderr}`);
}

test('rotate-root-key re-seals every object under a new key', async (t) => {
  const { dir, objs, oldId } = await setup(t);
  const r = await rotateRootKey({ dataDir: dir, batchSize: 25 });
  assert.equal(r.oldRootKeyId, oldId);
  assert.notEqual(r.newRootKeyId, oldId);
  assert.equal(r.resealed, objs.filter((o) => o.material).length);
  assert.equal(existsSync(join(dir, ROOT_KEY_NEXT_FILE)), false);
  assert.deepEqual([...blobKeyIds(dir)], [r.newRootKeyId]);
  assert.equal(await assertAllReadable(dir, objs, true), r.newRootKeyId);
});

test('rotation killed with SIGKILL mid-way: every object stays readable and the next open finishes it', async (t) => {
  const { dir, objs, oldId } = await setup(t);
  runChild(
    dir,
    `await rotateRootKey({ dataDir: dir, batchSize: 10, onProgress: (p) => { if (p.resealed >= 30) process.kill(process.pid, 'SIGKILL'); } });`,
  );
  assert.ok(existsSync(join(dir, ROOT_KEY_NEXT_FILE)), 'rotation left pending');
  assert.equal(blobKeyIds(dir).size, 2, 'blobs under both keys');
  const pendingId = await assertAllReadable(dir, objs, false);
  assert.notEqual(pendingId, oldId);
  assert.equal(await assertAllReadable(dir, objs, true), pendingId);
  assert.equal(existsSync(join(dir, ROOT_KEY_NEXT_FILE)), false);
  assert.deepEqual([...blobKeyIds(dir)], [pendingId]);
});

test('rotation killed right after the new key was written: the next open finishes it', async (t) => {
  const { dir, objs, oldId } = await setup(t);
  runChild(
    dir,
    `const k = await RootKey.load(dir); await k.beginRotation(); process.kill(process.pid, 'SIGKILL');`,
  );
  assert.deepEqual([...blobKeyIds(dir)], [oldId]);
  const newId = await assertAllReadable(dir, objs, true);
  assert.notEqual(newId, oldId);
  assert.deepEqual([...blobKeyIds(dir)], [newId]);
  // A second rotation after the recovered one works as usual.
  const again = await rotateRootKey({ dataDir: dir });
  assert.equal(again.oldRootKeyId, newId);
  await assertAllReadable(dir, objs, true);
});
