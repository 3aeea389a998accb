import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addPassphraseKeyslot } from './add-keyslot.js';
import { openPassphraseKeyslot } from './open-keyslot.js';
import { removeKeyslots } from './remove-keyslots.js';
import { readLuks2Header } from './read-header.js';
import { afMerge, afSplit } from './af-splitter.js';
import { LuksError } from './errors.js';
import type { LuksErrorCode } from './errors.js';
import { fixedKey, imageBytes, imageFile, secret, tempDir, testHeader } from './test-fixtures.js';
import { SecretBytes } from '../crypto/index.js';

const key = fixedKey('keyslots');

function isCode(code: LuksErrorCode) {
  return (e: unknown): boolean => e instanceof LuksError && e.code === code;
}

test('the AF splitter round-trips and spreads the key over every stripe', () => {
  const k = Buffer.from(Array.from({ length: 64 }, (_, i) => i));
  for (const [stripes, hash] of [
    [4000, 'sha256'],
    [3, 'sha1'],
    [1, 'sha512'],
  ] as const) {
    const split = afSplit(k, stripes, hash);
    assert.equal(split.length, 64 * stripes);
    assert.deepEqual(afMerge(split, 64, stripes, hash), k);
    if (stripes > 1) {
      split[7] = split[7]! ^ 1;
      assert.notDeepEqual(afMerge(split, 64, stripes, hash), k);
    }
  }
  assert.notDeepEqual(afSplit(k, 4, 'sha256'), afSplit(k, 4, 'sha256'));
});

test('a passphrase keyslot opens, a wrong passphrase does not, and removal wipes its area', async () => {
  const { dir, cleanup } = await tempDir();
  const created = await testHeader(key);
  const fh = await imageFile(dir, 'k.img', imageBytes(created));
  try {
    const h1 = await addPassphraseKeyslot(fh, created.header, key, secret('escrow one'), {
      iterations: 1000,
    });
    const h2 = await addPassphraseKeyslot(fh, h1, key, secret('escrow two'), { iterations: 1000 });
    assert.equal(h2.seqid, 3);
    const onDisk = await readLuks2Header(fh);
    assert.deepEqual(Object.keys(onDisk.json.keyslots), ['0', '1']);
    assert.deepEqual(onDisk.json.digests['0']!.keyslots, ['0', '1']);
    const a0 = onDisk.json.keyslots['0']!.area;
    const a1 = onDisk.json.keyslots['1']!.area;
    assert.deepEqual([a0.offset, a0.size, a1.offset], ['32768', '258048', String(32768 + 258048)]);

    const opened = await openPassphraseKeyslot(onDisk, fh, secret('escrow two'));
    assert.equal(opened.keyslot, '1');
    assert.ok(opened.volumeKey.equals(key));
    opened.volumeKey.dispose();
    await assert.rejects(
      openPassphraseKeyslot(onDisk, fh, secret('escrow three')),
      isCode('passphrase_mismatch'),
    );
    await assert.rejects(
      openPassphraseKeyslot(onDisk, fh, secret('escrow one'), { keyslot: '1' }),
      isCode('passphrase_mismatch'),
    );
    await assert.rejects(
      openPassphraseKeyslot(onDisk, fh, secret('escrow one'), { keyslot: '5' }),
      isCode('keyslot_not_found'),
    );

    const before = Buffer.alloc(258048);
    await fh.read(before, 0, before.length, 32768);
    assert.ok(before.some((b) => b !== 0));
    const h3 = await removeKeyslots(fh, onDisk, ['0']);
    assert.deepEqual(Object.keys(h3.json.keyslots), ['1']);
    assert.deepEqual(h3.json.digests['0']!.keyslots, ['1']);
    const after = Buffer.alloc(258048);
    await fh.read(after, 0, after.length, 32768);
    assert.ok(
      after.every((b) => b === 0),
      'the removed keyslot area is zeroed',
    );
    await assert.rejects(openPassphraseKeyslot(h3, fh, secret('escrow one')), isCode('passphrase_mismatch'));
    await assert.rejects(removeKeyslots(fh, h3, ['0']), isCode('keyslot_not_found'));

    // The freed gap is reused first.
    const h4 = await addPassphraseKeyslot(fh, h3, key, secret('escrow four'), { iterations: 1000 });
    assert.equal(h4.json.keyslots['0']!.area.offset, '32768');
  } finally {
    await fh.close();
    await cleanup();
  }
});

test('an argon2id keyslot opens with its passphrase only', async () => {
  const { dir, cleanup } = await tempDir();
  const created = await testHeader(key);
  const fh = await imageFile(dir, 'a.img', imageBytes(created));
  try {
    const kdf = { type: 'argon2id', time: 1, memory: 1024, parallelism: 2 } as const;
    const h = await addPassphraseKeyslot(fh, created.header, key, secret('argon escrow'), { kdf });
    assert.deepEqual(
      { ...h.json.keyslots['0']!.kdf, salt: undefined },
      { type: 'argon2id', time: 1, memory: 1024, cpus: 2, salt: undefined },
    );
    const { volumeKey } = await openPassphraseKeyslot(h, fh, secret('argon escrow'));
    assert.ok(volumeKey.equals(key));
    volumeKey.dispose();
    await assert.rejects(openPassphraseKeyslot(h, fh, secret('argon escrox')), isCode('passphrase_mismatch'));
    await assert.rejects(
      addPassphraseKeyslot(fh, h, key, secret('x'), { kdf: { ...kdf, memory: 8 } }),
      isCode('key_invalid'),
    );
  } finally {
    await fh.close();
    await cleanup();
  }
});

test('adding a keyslot needs the right, well-formed volume key', async () => {
  const { dir, cleanup } = await tempDir();
  const created = await testHeader(key);
  const fh = await imageFile(dir, 'k.img', imageBytes(created));
  try {
    const p = secret('x');
    await assert.rejects(
      addPassphraseKeyslot(fh, created.header, fixedKey('wrong'), p, { iterations: 1000 }),
      isCode('key_mismatch'),
    );
    const equalHalves = SecretBytes.from(Buffer.alloc(64, 7));
    await assert.rejects(
      addPassphraseKeyslot(fh, created.header, equalHalves, p, { iterations: 1000 }),
      isCode('key_invalid'),
    );
    await assert.rejects(
      addPassphraseKeyslot(fh, created.header, key, secret(''), { iterations: 1000 }),
      isCode('key_invalid'),
    );
    await assert.rejects(
      addPassphraseKeyslot(fh, created.header, key, p, { iterations: 1000, keyslot: '40' }),
      isCode('keyslot_not_found'),
    );
  } finally {
    await fh.close();
    await cleanup();
  }
});
