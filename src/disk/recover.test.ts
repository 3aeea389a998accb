import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretBytes } from '../crypto/index.js';
import { formatImage, readImageHeader } from './image.js';
import {
  RECOVERY_ERROR_CODES,
  RecoveryError,
  candidatePlaces,
  parseKmsServers,
  recoverableToken,
  unwrapAtPlaces,
} from './recover.js';

const MiB = 1024 * 1024;

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'cv-recover-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A datastore VM folder as the agent lays it out: NAME/NAME.cvx, disk-N.cvdisk, disk-N-flat.img. */
async function vmFolder(root: string, name: string, uuid: string, disks: string[]): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  const config = {
    formatVersion: 1,
    name,
    uuid,
    disks: disks.map((id) => ({ id, descriptor: `${id}.cvdisk` })),
    nvram: 'nvram.img',
  };
  await writeFile(join(dir, `${name}.cvx`), JSON.stringify(config));
  for (const id of disks) {
    await writeFile(
      join(dir, `${id}.cvdisk`),
      JSON.stringify({ formatVersion: 1, id, extent: `${id}-flat.img`, sizeBytes: MiB, format: 'luks2' }),
    );
  }
  return dir;
}

test('every RecoveryError code is documented in docs/recovery.md and has an exit code', async () => {
  const doc = await readFile(new URL('../../../docs/recovery.md', import.meta.url), 'utf8');
  for (const code of RECOVERY_ERROR_CODES) {
    assert.ok(doc.includes(`\`${code}\``), `docs/recovery.md documents ${code}`);
    assert.ok(new RecoveryError(code, 'x').exitCode > 0);
  }
  assert.equal(new RecoveryError('key_destroyed', 'x').exitCode, 5);
  assert.equal(new RecoveryError('key_revoked', 'x').exitCode, 5);
  assert.equal(new RecoveryError('kms_denied', 'x').exitCode, 4);
  assert.equal(new RecoveryError('not_cryptvisor_disk', 'x').exitCode, 1);
  assert.equal(new RecoveryError('dek_not_wrapped', 'x').exitCode, 3);
});

test('parseKmsServers: HOST:PORT lists, IPv6 in brackets; anything else is refused', () => {
  assert.deepEqual(parseKmsServers('127.0.0.1:5696, kms.example:15696,[::1]:5697'), [
    { host: '127.0.0.1', port: 5696 },
    { host: 'kms.example', port: 15696 },
    { host: '::1', port: 5697 },
  ]);
  for (const bad of ['', 'kms', 'kms:0', 'kms:70000', '::1:5696', 'a b:1', ',']) {
    assert.throws(() => parseKmsServers(bad), { code: 'kms_argument_invalid' }, bad);
  }
});

test('candidatePlaces: a VM folder names the VM uuid and the disk whose descriptor names the extent; the own UUID last', async () => {
  await withDir(async (root) => {
    const dir = await vmFolder(root, 'vm1', 'uuid-1', ['disk-0', 'disk-1']);
    assert.deepEqual(await candidatePlaces(join(dir, 'disk-1-flat.img')), [
      { vmUuid: 'uuid-1', diskId: 'disk-1' },
      {},
    ]);
    assert.deepEqual(await candidatePlaces(join(dir, 'nvram.img')), [
      { vmUuid: 'uuid-1', diskId: 'nvram' },
      {},
    ]);
    // A disk file the configuration does not list still gets its id from its name.
    assert.deepEqual(await candidatePlaces(join(dir, 'disk-7-flat.img')), [
      { vmUuid: 'uuid-1', diskId: 'disk-7' },
      {},
    ]);
    assert.deepEqual(await candidatePlaces(join(root, 'loose.img')), [{}]);
    // A malformed configuration is ignored, not trusted.
    await writeFile(join(dir, 'vm1.cvx'), '{not json');
    assert.deepEqual(await candidatePlaces(join(dir, 'disk-1-flat.img')), [{}]);
  });
});

test('unwrapAtPlaces finds the place the DEK was wrapped for; a moved extent needs its place; a wrong KEK fails uniformly', async () => {
  await withDir(async (root) => {
    const dir = await vmFolder(root, 'vm1', 'uuid-1', ['disk-0']);
    const extent = join(dir, 'disk-0-flat.img');
    const kek = SecretBytes.random(32);
    const dek = SecretBytes.random(64);
    await formatImage(extent, {
      sizeBytes: MiB,
      volumeKey: dek,
      binding: { kek, keyProviderId: 'kp', keyId: 'k1', vmUuid: 'uuid-1', diskId: 'disk-0' },
    });
    const header = await readImageHeader(extent);
    assert.deepEqual(recoverableToken(header, extent).keyId, 'k1');
    const got = unwrapAtPlaces(header, kek, await candidatePlaces(extent), extent);
    assert.deepEqual(got.place, { vmUuid: 'uuid-1', diskId: 'disk-0' });
    assert.ok(got.dek.equals(dek));
    got.dek.dispose();

    const moved = join(root, 'moved.img');
    await rename(extent, moved);
    assert.throws(() => unwrapAtPlaces(header, kek, [{}], moved), { code: 'unwrap_failed' });
    const again = unwrapAtPlaces(header, kek, [{ vmUuid: 'uuid-1', diskId: 'disk-0' }], moved);
    assert.ok(again.dek.equals(dek));
    again.dek.dispose();
    const other = SecretBytes.random(32);
    assert.throws(() => unwrapAtPlaces(header, other, [{ vmUuid: 'uuid-1', diskId: 'disk-0' }, {}], moved), {
      code: 'unwrap_failed',
    });
    for (const k of [kek, dek, other]) k.dispose();
  });
});

test('recoverableToken: a token without a wrapped DEK (a LUKS2 volume without the token: test/recovery)', async () => {
  await withDir(async (root) => {
    const key = SecretBytes.random(64);
    const unwrapped = join(root, 'unwrapped.img');
    await formatImage(unwrapped, { sizeBytes: MiB, volumeKey: key });
    await assert.rejects(async () => recoverableToken(await readImageHeader(unwrapped), unwrapped), {
      code: 'dek_not_wrapped',
    });
    key.dispose();
  });
});
