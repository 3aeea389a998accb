import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT_KEY_FILE, RootKey } from './root-key.js';
import { StoreError } from './store/errors.js';

const isCode = (code: string) => (e: unknown) => e instanceof StoreError && e.code === code;

async function tmp(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cv-rootkey-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('root key file: created 0600, loaded with the same id, refused when group/other-readable or malformed', async (t) => {
  const dir = await tmp(t);
  await assert.rejects(RootKey.load(dir), isCode('root_key_missing'));
  const k = await RootKey.create(dir);
  assert.match(k.id, /^[0-9a-f]{16}$/);
  const file = join(dir, ROOT_KEY_FILE);
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.equal((await readFile(file)).length, 32);
  await assert.rejects(RootKey.create(dir), isCode('root_key_exists'));
  const again = await RootKey.load(dir);
  assert.equal(again.id, k.id);
  assert.deepEqual(again.unseal('obj', k.seal('obj', Buffer.from('secret'))), Buffer.from('secret'));
  assert.equal(String(k), `RootKey(${k.id})`);
  assert.equal(JSON.stringify(k), JSON.stringify({ id: k.id }));

  await chmod(file, 0o640);
  await assert.rejects(RootKey.load(dir), isCode('root_key_permissions'));
  await chmod(file, 0o604);
  await assert.rejects(RootKey.load(dir), isCode('root_key_permissions'));
  await writeFile(file, Buffer.alloc(31), { mode: 0o600 });
  await chmod(file, 0o600);
  await assert.rejects(RootKey.load(dir), isCode('root_key_invalid'));

  const other = await tmp(t);
  await writeFile(file, Buffer.alloc(32, 1));
  const copied = await RootKey.copy(dir, other);
  assert.equal(copied.id, RootKey.fromBytes(Buffer.alloc(32, 1)).id);
  assert.equal((await stat(join(other, ROOT_KEY_FILE))).mode & 0o777, 0o600);
});

test('sealing: ciphertext differs from plaintext; flipped byte, moved blob, wrong key and disposed key fail', () => {
  const k = RootKey.fromBytes(new Uint8Array(32).fill(1));
  const plain = Buffer.alloc(32, 0xab);
  const blob = k.seal('id-1', plain);
  assert.equal(blob.length, 1 + 8 + 12 + 32 + 16);
  assert.equal(blob.indexOf(plain.subarray(0, 8)), -1);
  assert.notDeepEqual(k.seal('id-1', plain), blob, 'fresh nonce each time');
  assert.deepEqual(k.unseal('id-1', blob), plain);
  for (const i of [0, 5, 12, 30, blob.length - 1]) {
    const f = Buffer.from(blob);
    f[i] = (f[i] as number) ^ 0x01;
    assert.throws(
      () => k.unseal('id-1', f),
      (e: unknown) => e instanceof StoreError && ['unseal_failed', 'root_key_unknown'].includes(e.code),
    );
  }
  assert.throws(() => k.unseal('id-2', blob), isCode('unseal_failed'));
  assert.throws(() => k.unseal('id-1', blob.subarray(0, 20)), isCode('unseal_failed'));
  assert.throws(
    () => RootKey.fromBytes(new Uint8Array(32).fill(2)).unseal('id-1', blob),
    isCode('root_key_unknown'),
  );
  assert.throws(() => RootKey.fromBytes(new Uint8Array(16)), isCode('root_key_invalid'));
  k.dispose();
  assert.throws(() => k.seal('id-1', plain), isCode('closed'));
});

test('a pending rotation holds both keys: old blobs still unseal, new blobs use the next key', async (t) => {
  const dir = await tmp(t);
  const k = await RootKey.create(dir);
  const old = k.seal('a', Buffer.from('one'));
  const oldId = k.id;
  await k.beginRotation();
  assert.ok(k.rotationPending);
  assert.notEqual(k.id, oldId);
  const fresh = k.seal('b', Buffer.from('two'));
  assert.equal(RootKey.blobKeyId(fresh), k.id);
  const reloaded = await RootKey.load(dir);
  assert.deepEqual(reloaded.ids, [oldId, k.id]);
  assert.deepEqual(reloaded.unseal('a', old), Buffer.from('one'));
  assert.deepEqual(reloaded.unseal('b', fresh), Buffer.from('two'));
  await reloaded.finishRotation();
  const done = await RootKey.load(dir);
  assert.deepEqual(done.ids, [k.id]);
  assert.throws(() => done.unseal('a', old), isCode('root_key_unknown'));
});
