import { test } from 'node:test';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { readLuks2Header, readLuks2HeaderReport } from './read-header.js';
import { writeLuks2Header } from './write-header.js';
import { LuksError } from './errors.js';
import type { LuksErrorCode } from './errors.js';
import { DEFAULT_DATA_OFFSET, DEFAULT_HEADER_SIZE, FIELD } from './layout.js';
import { segmentInfo, dataOffset, payloadSize } from './segment.js';
import { verifyVolumeKey } from './digest.js';
import { fixedKey, imageBytes, imageFile, rewriteCopy, tempDir, testHeader } from './test-fixtures.js';
import type { Luks2Header } from './metadata.js';

const key = fixedKey('read-header');

/** Hand-edited (often hostile) JSON metadata: any shape goes. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type LooseJson = Record<string, any>;

function isCode(code: LuksErrorCode) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof LuksError, `expected LuksError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  };
}

/** A well-formed keyslot object with its area at offset. */
function keyslotJson(offset: number, size = 258048): LooseJson {
  return {
    type: 'luks2',
    key_size: 64,
    af: { type: 'luks1', stripes: 4000, hash: 'sha256' },
    area: {
      type: 'raw',
      offset: String(offset),
      size: String(size),
      encryption: 'aes-xts-plain64',
      key_size: 64,
    },
    kdf: { type: 'pbkdf2', hash: 'sha256', iterations: 1000, salt: 'AAAA' },
  };
}

async function fresh(): Promise<{ img: Buffer; header: Luks2Header }> {
  const created = await testHeader(key);
  return { img: imageBytes(created, 8192), header: created.header };
}

/** Both copies rewritten with JSON changed by edit. */
function withJson(img: Buffer, header: Luks2Header, edit: (j: LooseJson) => void): Buffer {
  const j = structuredClone(header.json) as LooseJson;
  edit(j);
  const text = JSON.stringify(j);
  rewriteCopy(img, header, 'primary', text);
  rewriteCopy(img, header, 'secondary', text);
  return img;
}

test('a created header reads back with the default layout', async () => {
  const { img, header } = await fresh();
  const got = await readLuks2Header(img);
  assert.equal(got.hdrSize, DEFAULT_HEADER_SIZE);
  assert.equal(got.seqid, 1);
  assert.equal(got.uuid, header.uuid);
  assert.deepEqual(got.json, header.json);
  assert.deepEqual(segmentInfo(got), {
    offset: DEFAULT_DATA_OFFSET,
    sizeBytes: 'dynamic',
    ivTweak: 0,
    sectorSize: 4096,
    cipher: 'aes-xts-plain64',
  });
  assert.equal(dataOffset(got), 0x1000000);
  assert.equal(payloadSize(got, img.length), 8192);
  assert.deepEqual(got.json.config, { json_size: '12288', keyslots_size: '16744448' });
  assert.deepEqual(got.json.keyslots, {});
  await verifyVolumeKey(got, key);
  await assert.rejects(verifyVolumeKey(got, fixedKey('other')), isCode('key_mismatch'));
});

test('the binary header fields sit where the specification puts them', async () => {
  const { img, header } = await fresh();
  assert.equal(img.subarray(0, 6).toString('latin1'), 'LUKS\xba\xbe');
  assert.equal(img.readUInt16BE(6), 2);
  assert.equal(img.readBigUInt64BE(8), 0x4000n);
  assert.equal(img.subarray(0x4000, 0x4006).toString('latin1'), 'SKUL\xba\xbe');
  assert.equal(img.readBigUInt64BE(0x4000 + FIELD.hdrOffset.at), 0x4000n);
  assert.equal(img.subarray(FIELD.checksumAlg.at, FIELD.checksumAlg.at + 6).toString(), 'sha256');
  assert.equal(img.subarray(FIELD.uuid.at, FIELD.uuid.at + 36).toString(), header.uuid);
  assert.notDeepEqual(
    img.subarray(FIELD.salt.at, FIELD.salt.at + 64),
    img.subarray(0x4000 + FIELD.salt.at, 0x4000 + FIELD.salt.at + 64),
  );
});

test('writing increments seqid in both copies; the higher valid seqid wins and the other is repaired', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { img, header } = await fresh();
    const fh = await imageFile(dir, 'a.img', img);
    try {
      const written = await writeLuks2Header(fh, { ...header, label: 'disk-a' });
      assert.equal(written.seqid, 2);
      const back = await readLuks2HeaderReport(fh);
      assert.equal(back.header.seqid, 2);
      assert.equal(back.header.label, 'disk-a');
      assert.equal(back.repaired, null);

      // A crash after the primary was written: the secondary still has seqid 2.
      const primaryOnly = { ...written, label: 'disk-b' };
      const buf = Buffer.alloc(DEFAULT_HEADER_SIZE * 2);
      await fh.read(buf, 0, buf.length, 0);
      rewriteCopy(buf, primaryOnly, 'primary', JSON.stringify(primaryOnly.json), 3);
      await fh.write(buf, 0, DEFAULT_HEADER_SIZE, 0);
      const r = await readLuks2HeaderReport(fh);
      assert.equal(r.header.label, 'disk-b');
      assert.equal(r.header.seqid, 3);
      assert.equal(r.secondary, 'stale');
      assert.equal(r.repaired, 'secondary');
      const again = await readLuks2HeaderReport(fh);
      assert.equal(again.secondary, 'ok');
      assert.equal(again.repaired, null);

      // A torn primary (crash mid-write): the secondary is used and the primary repaired.
      await fh.write(Buffer.alloc(100, 0x55), 0, 100, 5000);
      const torn = await readLuks2HeaderReport(fh);
      assert.ok(torn.primary instanceof LuksError && torn.primary.code === 'bad_checksum');
      assert.equal(torn.header.label, 'disk-b');
      assert.equal(torn.repaired, 'primary');
      assert.equal((await readLuks2HeaderReport(fh)).primary, 'ok');
    } finally {
      await fh.close();
    }
  } finally {
    await cleanup();
  }
});

test('a stale copy in a read-only file is reported, not fatal', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { img, header } = await fresh();
    rewriteCopy(img, header, 'primary', JSON.stringify(header.json), 5);
    await (await imageFile(dir, 'ro.img', img)).close();
    const fh = await open(join(dir, 'ro.img'), 'r');
    try {
      const r = await readLuks2HeaderReport(fh);
      assert.equal(r.header.seqid, 5);
      assert.equal(r.secondary, 'stale');
      assert.equal(r.repaired, null);
      assert.equal(r.repairError?.code, 'io_failed');
      assert.equal((await readLuks2HeaderReport(fh, { repair: false })).repairError, null);
    } finally {
      await fh.close();
    }
  } finally {
    await cleanup();
  }
});

test('bad magic in both copies is bad_magic; a damaged primary falls back to the secondary', async () => {
  const { img } = await fresh();
  img[0] = 0x4d;
  const r = await readLuks2HeaderReport(img);
  assert.ok(r.primary instanceof LuksError && r.primary.code === 'bad_magic');
  assert.equal(r.secondary, 'ok');
  img[0x4000] = 0x00;
  await assert.rejects(readLuks2Header(img), isCode('bad_magic'));
  await assert.rejects(readLuks2Header(Buffer.alloc(64 * 1024)), isCode('bad_magic'));
  await assert.rejects(readLuks2Header(Buffer.alloc(100)), isCode('bad_magic'));
});

test('a checksum mismatch in both copies is bad_checksum', async () => {
  const { img } = await fresh();
  img[4096 + 10] = img[4096 + 10]! ^ 1;
  img[0x4000 + 4096 + 10] = img[0x4000 + 4096 + 10]! ^ 1;
  await assert.rejects(readLuks2Header(img), isCode('bad_checksum'));
});

test('two valid copies with one seqid that differ are copies_disagree', async () => {
  const { img, header } = await fresh();
  const j = structuredClone(header.json);
  j.segments['0']!.iv_tweak = '8';
  rewriteCopy(img, header, 'secondary', JSON.stringify(j));
  await assert.rejects(readLuks2Header(img), isCode('copies_disagree'));
});

test('a wrong version, hdr_size or hdr_offset is bad_header; LUKS1 is not_supported', async () => {
  for (const [at, value, code] of [
    [6, 3, 'bad_header'],
    [6, 1, 'not_supported'],
  ] as const) {
    const { img } = await fresh();
    img.writeUInt16BE(value, at);
    img.writeUInt16BE(value, 0x4000 + at);
    await assert.rejects(readLuks2Header(img), isCode(code));
  }
  const { img } = await fresh();
  img.writeBigUInt64BE(12345n, 8);
  img.writeBigUInt64BE(12345n, 0x4000 + 8);
  await assert.rejects(readLuks2Header(img), isCode('bad_header'));
});

test('JSON that does not fit or is not JSON gets json_too_large or json_invalid', async () => {
  const { img, header } = await fresh();
  await assert.rejects(
    readLuks2Header(withJson(img, header, (j) => (j.config.json_size = '4182016'))),
    isCode('json_too_large'),
  );
  const { img: img2, header: h2 } = await fresh();
  rewriteCopy(img2, h2, 'primary', '{"keyslots": ');
  rewriteCopy(img2, h2, 'secondary', '[1,2,3]');
  await assert.rejects(readLuks2Header(img2), isCode('json_invalid'));
  const { img: img3, header: h3 } = await fresh();
  const deep = '['.repeat(5000) + ']'.repeat(5000);
  const bomb = JSON.stringify({ ...h3.json, extra: 0 }).replace('"extra":0', `"extra":${deep}`);
  rewriteCopy(img3, h3, 'primary', bomb);
  rewriteCopy(img3, h3, 'secondary', bomb);
  await assert.rejects(readLuks2Header(img3), isCode('json_too_large'));
});

test('schema violations are schema_invalid', async () => {
  const cases: [string, (j: LooseJson) => void][] = [
    ['unknown segment type', (j) => (j.segments['0'].type = 'zoned')],
    ['segment offset not aligned', (j) => (j.segments['0'].offset = '16777217')],
    ['segment offset not a string', (j) => (j.segments['0'].offset = 16777216)],
    ['sector size', (j) => (j.segments['0'].sector_size = 8192)],
    ['fixed size not a sector multiple', (j) => (j.segments['0'].size = '1000')],
    ['no segments', (j) => (j.segments = {})],
    ['no digests', (j) => (j.digests = {})],
    ['digest names a missing keyslot', (j) => (j.digests['0'].keyslots = ['3'])],
    ['digest names a missing segment', (j) => (j.digests['0'].segments = ['1'])],
    ['digest salt not base64', (j) => (j.digests['0'].salt = 'not base64!')],
    ['token without keyslots', (j) => delete j.tokens['0'].keyslots],
    ['token id not a number', (j) => (j.tokens['x'] = { type: 't', keyslots: [] })],
    ['keyslots_size not aligned', (j) => (j.config.keyslots_size = '1000')],
    ['huge number', (j) => (j.segments['0'].iv_tweak = '99999999999999999999')],
    ['keyslots area above 128 MiB', (j) => (j.config.keyslots_size = String(256 << 20))],
    ['digest longer than a hash', (j) => (j.digests['0'].digest = Buffer.alloc(65).toString('base64'))],
    [
      'keyslot with huge stripes',
      (j) =>
        (j.keyslots['0'] = { ...keyslotJson(32768), af: { type: 'luks1', stripes: 1e9, hash: 'sha256' } }),
    ],
    ['keyslot with a huge key', (j) => (j.keyslots['0'] = { ...keyslotJson(32768), key_size: 4096 })],
    [
      'keyslot with unknown kdf',
      (j) => (j.keyslots['0'] = { ...keyslotJson(32768), kdf: { type: 'scrypt', salt: 'AAAA' } }),
    ],
  ];
  for (const [name, edit] of cases) {
    const { img, header } = await fresh();
    await assert.rejects(readLuks2Header(withJson(img, header, edit)), isCode('schema_invalid'), name);
  }
});

test('a segment past the end of the file is segment_out_of_bounds', async () => {
  const { img, header } = await fresh();
  await assert.rejects(readLuks2Header(img.subarray(0, 1 << 20)), isCode('segment_out_of_bounds'));
  const fixed = withJson(img, header, (j) => (j.segments['0'].size = String(1 << 20)));
  await assert.rejects(readLuks2Header(fixed), isCode('segment_out_of_bounds'));
  assert.throws(() => payloadSize(header, 4096), isCode('segment_out_of_bounds'));
});

test('keyslot areas overlapping the data, the metadata or each other are area_overlap', async () => {
  const slot = keyslotJson;
  const cases: [string, (j: LooseJson) => void][] = [
    ['data inside the keyslots area', (j) => (j.segments['0'].offset = '1048576')],
    ['area past the keyslots area', (j) => (j.keyslots['0'] = slot(16777216 - 4096))],
    ['area in the metadata', (j) => (j.keyslots['0'] = slot(16384))],
    ['two areas overlap', (j) => ((j.keyslots['0'] = slot(32768)), (j.keyslots['1'] = slot(32768 + 4096)))],
  ];
  for (const [name, edit] of cases) {
    const { img, header } = await fresh();
    await assert.rejects(readLuks2Header(withJson(img, header, edit)), isCode('area_overlap'), name);
  }
});

test('a reencryption segment or mandatory requirement is not_supported', async () => {
  const { img, header } = await fresh();
  await assert.rejects(
    readLuks2Header(
      withJson(img, header, (j) => (j.config.requirements = { mandatory: ['online-reencrypt-v2'] })),
    ),
    isCode('not_supported'),
  );
});
