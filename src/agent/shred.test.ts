import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretBytes } from '../crypto/index.js';
import { formatImage, journalPath, openImage } from '../disk/index.js';
import { addPassphraseKeyslot, openPassphraseKeyslot, readLuks2Header } from '../luks/index.js';
import { eraseKeyslots } from './shred.js';

const DATA_OFFSET = 16 * 1024 * 1024;

test('eraseKeyslots: no keyslot remains, the escrow passphrase no longer opens, the payload is untouched', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cv-shred-'));
  try {
    const img = join(dir, 'disk-0-flat.img');
    const dek = SecretBytes.random(64);
    await formatImage(img, { sizeBytes: 64 * 1024, volumeKey: dek });
    const opened = await openImage(img, dek);
    await opened.device.write(0, Buffer.alloc(64 * 1024, 0x5a));
    await opened.close();
    const pass = () => SecretBytes.from(Buffer.from('escrow passphrase'));
    const fh = await open(img, 'r+');
    for (let i = 0; i < 2; i++)
      await addPassphraseKeyslot(fh, await readLuks2Header(fh), dek, pass(), { iterations: 1000 });
    const before = await readLuks2Header(fh);
    assert.equal(Object.keys(before.json.keyslots).length, 2);
    await openPassphraseKeyslot(before, fh, pass()).then((r) => r.volumeKey.dispose());
    await fh.close();
    await writeFile(journalPath(img), Buffer.alloc(8192, 1));
    const payload = (await readFile(img)).subarray(DATA_OFFSET);

    assert.equal(await eraseKeyslots(img), 2);

    const after = await open(img, 'r');
    try {
      const header = await readLuks2Header(after);
      assert.deepEqual(header.json.keyslots, {});
      await assert.rejects(openPassphraseKeyslot(header, after, pass()));
      const area = Buffer.alloc(Number(before.json.keyslots['0']!.area.size));
      await after.read(area, 0, area.length, Number(before.json.keyslots['0']!.area.offset));
      assert.ok(
        area.every((b) => b === 0),
        'the keyslot area is zeroed',
      );
    } finally {
      await after.close();
    }
    assert.ok((await readFile(img)).subarray(DATA_OFFSET).equals(payload), 'the payload is byte-identical');
    await assert.rejects(stat(journalPath(img)), 'the journal is gone');
    assert.equal(await eraseKeyslots(img), 0, 'a second run finds nothing to erase');
    dek.dispose();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
