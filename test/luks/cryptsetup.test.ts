/**
 * src/luks against the real cryptsetup (Debian cryptsetup-bin; offline: no device-mapper) and an
 * independent Python decryptor (python3-cryptography):
 * - `cryptsetup luksDump` reads our headers: layout, cipher, sector size, token, JSON metadata;
 * - `cryptsetup luksAddKey --volume-key-file` accepts our DEK and rejects a wrong one; we open the
 *   keyslot it added, and a keyslot we removed no longer opens in cryptsetup;
 * - `cryptsetup open --test-passphrase` accepts our escrow keyslot and rejects a wrong passphrase;
 * - headers made by `cryptsetup luksFormat` are read by us, and we open their pbkdf2 and argon2id
 *   keyslots; cryptsetup opens our argon2id keyslot; our updates keep cryptsetup's keyslots working;
 * - `cryptsetup luksDump --dump-volume-key` yields the key we used;
 * - test/luks/luks2-decrypt.py decrypts a payload we encrypted, with a zero and a nonzero iv_tweak.
 * - cryptsetup's own offline `reencrypt --decrypt` (detached header) recovers a payload we encrypted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FileHandle } from 'node:fs/promises';
import { needPeers, PYTHON } from '../support/peers.js';
import {
  addPassphraseKeyslot,
  formatLuks2,
  getToken,
  LuksError,
  openPassphraseKeyslot,
  readLuks2Header,
  removeKeyslots,
  segmentInfo,
  setToken,
  verifyVolumeKey,
  writeLuks2Header,
} from '../../src/luks/index.js';
import type { Luks2Header } from '../../src/luks/index.js';
import type { SecretBytes } from '../../src/crypto/index.js';
import { fixedKey, secret, tempDir, TEST_TOKEN } from '../../src/luks/test-fixtures.js';
import { prng } from '../support/cli.js';

const DECRYPTOR = fileURLToPath(new URL('../../../test/luks/luks2-decrypt.py', import.meta.url));
const FAST = ['--batch-mode', '--pbkdf', 'pbkdf2', '--pbkdf-force-iterations', '1000'];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

async function cryptsetup(...args: string[]): Promise<Run> {
  return run('cryptsetup', args);
}

async function keyFile(dir: string, name: string, key: SecretBytes): Promise<string> {
  const path = join(dir, name);
  await key.use((b) => writeFile(path, b, { mode: 0o600 }));
  return path;
}

async function withImage<T>(fn: (dir: string, img: string) => Promise<T>): Promise<T> {
  const { dir, cleanup } = await tempDir();
  try {
    return await fn(dir, join(dir, 'disk.img'));
  } finally {
    await cleanup();
  }
}

async function withHandle<T>(path: string, fn: (fh: FileHandle) => Promise<T>): Promise<T> {
  const fh = await open(path, 'r+');
  try {
    return await fn(fh);
  } finally {
    await fh.close();
  }
}

const PAYLOAD = 1 << 20;

/** cryptsetup luksFormat: LUKS2, 4096-byte sectors, our 512-bit volume key, a passphrase file. */
function luksFormat(volumeKeyFile: string, passFile: string, ...more: string[]): Promise<Run> {
  const args = [
    '--type',
    'luks2',
    '--key-size',
    '512',
    '--sector-size',
    '4096',
    '--volume-key-file',
    volumeKeyFile,
  ];
  args.push('--key-file', passFile);
  return cryptsetup('luksFormat', ...args, ...more);
}

/** An empty sparse file of size bytes for cryptsetup luksFormat. */
async function sparseFile(path: string, size: number): Promise<void> {
  const fh = await open(path, 'wx', 0o600);
  try {
    await fh.truncate(size);
  } finally {
    await fh.close();
  }
}

test('cryptsetup luksDump reads our header: layout, cipher, sector size, token', async (t) => {
  if (!needPeers(t, 'cryptsetup')) return;
  await withImage(async (_dir, img) => {
    const header = await formatLuks2(img, PAYLOAD, {
      volumeKey: fixedKey('dump'),
      token: TEST_TOKEN,
      digestIterations: 1000,
      label: 'disk-1',
    });
    const dump = await cryptsetup('luksDump', img);
    assert.equal(dump.code, 0, dump.stderr);
    for (const re of [
      /Version:\s+2/,
      /Metadata area:\s+16384 \[bytes\]/,
      /Keyslots area:\s+16744448 \[bytes\]/,
      new RegExp(`UUID:\\s+${header.uuid}`),
      /Label:\s+disk-1/,
      /offset: 16777216 \[bytes\]/,
      /length: \(whole device\)/,
      /cipher: aes-xts-plain64/,
      /sector: 4096 \[bytes\]/,
      /Tokens:\s+0: cryptvisor/,
      /Digests:\s+0: pbkdf2/,
    ]) {
      assert.match(dump.stdout, re);
    }
    assert.doesNotMatch(dump.stdout, /Keyslots:\s+\d+: luks2/);
    const json = await cryptsetup('luksDump', '--dump-json-metadata', img);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), header.json);
  });
});

test('cryptsetup luksAddKey takes our DEK, refuses a wrong one, and we open the keyslot it adds', async (t) => {
  if (!needPeers(t, 'cryptsetup')) return;
  await withImage(async (dir, img) => {
    const dek = fixedKey('addkey');
    await formatLuks2(img, PAYLOAD, { volumeKey: dek, token: TEST_TOKEN, digestIterations: 1000 });
    const good = await keyFile(dir, 'dek.key', dek);
    const bad = await keyFile(dir, 'wrong.key', fixedKey('not-the-dek'));
    const pass = join(dir, 'pass');
    await writeFile(pass, 'correct horse battery staple', { mode: 0o600 });

    const refused = await cryptsetup(
      'luksAddKey',
      ...FAST,
      '--key-size',
      '512',
      '--volume-key-file',
      bad,
      img,
      pass,
    );
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /Volume key does not match/);

    const added = await cryptsetup(
      'luksAddKey',
      ...FAST,
      '--key-size',
      '512',
      '--volume-key-file',
      good,
      img,
      pass,
    );
    assert.equal(added.code, 0, added.stderr);

    await withHandle(img, async (fh) => {
      const header = await readLuks2Header(fh);
      assert.deepEqual(Object.keys(header.json.keyslots), ['0']);
      assert.deepEqual(getToken(header), TEST_TOKEN, 'cryptsetup kept our token');
      const { keyslot, volumeKey } = await openPassphraseKeyslot(
        header,
        fh,
        secret('correct horse battery staple'),
      );
      assert.equal(keyslot, '0');
      assert.ok(volumeKey.equals(dek));
      volumeKey.dispose();
      await assert.rejects(
        openPassphraseKeyslot(header, fh, secret('wrong')),
        (e: unknown) => e instanceof LuksError && e.code === 'passphrase_mismatch',
      );

      // Our update keeps cryptsetup's keyslot working; removal makes it fail in cryptsetup too.
      await writeLuks2Header(fh, setToken(header, { ...TEST_TOKEN, keyId: 'key-0002' }));
      const ok = await cryptsetup('open', '--test-passphrase', '--key-file', pass, img);
      assert.equal(ok.code, 0, ok.stderr);
      const dump = await cryptsetup('luksDump', '--dump-volume-key', '--batch-mode', '--key-file', pass, img);
      assert.equal(dump.code, 0, dump.stderr);
      const hex = /MK dump:\s*((?:[0-9a-f]{2}\s+)+)/.exec(dump.stdout)?.[1]?.replace(/\s+/g, '') ?? '';
      assert.equal(hex.length, 128);
      assert.ok(
        dek.use((b) => b.toString('hex') === hex),
        'the dumped volume key is our DEK',
      );

      await removeKeyslots(fh, await readLuks2Header(fh), ['0']);
      const gone = await cryptsetup('open', '--test-passphrase', '--key-file', pass, img);
      assert.notEqual(gone.code, 0);
    });
  });
});

test('cryptsetup open --test-passphrase accepts our escrow keyslot and rejects a wrong passphrase', async (t) => {
  if (!needPeers(t, 'cryptsetup')) return;
  await withImage(async (dir, img) => {
    const dek = fixedKey('escrow');
    const header = await formatLuks2(img, PAYLOAD, {
      volumeKey: dek,
      token: TEST_TOKEN,
      digestIterations: 1000,
    });
    await withHandle(img, (fh) =>
      addPassphraseKeyslot(fh, header, dek, secret('escrow passphrase'), { iterations: 1000 }),
    );
    const pass = join(dir, 'pass');
    const wrong = join(dir, 'wrong');
    await writeFile(pass, 'escrow passphrase', { mode: 0o600 });
    await writeFile(wrong, 'escrow passphrasf', { mode: 0o600 });
    const ok = await cryptsetup('open', '--test-passphrase', '--key-file', pass, img);
    assert.equal(ok.code, 0, ok.stderr);
    const no = await cryptsetup('open', '--test-passphrase', '--key-file', wrong, img);
    assert.notEqual(no.code, 0);
    assert.match(no.stderr, /No key available with this passphrase/);
    const dump = await cryptsetup('luksDump', img);
    assert.match(dump.stdout, /0: luks2\s+Key:\s+512 bits/);
    assert.match(dump.stdout, /PBKDF:\s+pbkdf2/);
    assert.match(dump.stdout, /AF stripes: 4000/);
  });
});

test('headers made by cryptsetup luksFormat are read by us and their pbkdf2 keyslot opens', async (t) => {
  if (!needPeers(t, 'cryptsetup')) return;
  await withImage(async (dir, img) => {
    const dek = fixedKey('luksformat');
    const vk = await keyFile(dir, 'dek.key', dek);
    const pass = join(dir, 'pass');
    await writeFile(pass, 'format passphrase', { mode: 0o600 });
    await sparseFile(img, 17 << 20);
    const fmt = await luksFormat(vk, pass, ...FAST, img);
    assert.equal(fmt.code, 0, fmt.stderr);
    await withHandle(img, async (fh) => {
      const header = await readLuks2Header(fh);
      assert.deepEqual(segmentInfo(header), {
        offset: 16777216,
        sizeBytes: 'dynamic',
        ivTweak: 0,
        sectorSize: 4096,
        cipher: 'aes-xts-plain64',
      });
      await verifyVolumeKey(header, dek);
      const { volumeKey } = await openPassphraseKeyslot(header, fh, secret('format passphrase'));
      assert.ok(volumeKey.equals(dek));
      volumeKey.dispose();
    });
  });
});

test("argon2id keyslots: we open cryptsetup's, and cryptsetup opens ours", async (t) => {
  if (!needPeers(t, 'cryptsetup')) return;
  await withImage(async (dir, img) => {
    const pass = join(dir, 'pass');
    await writeFile(pass, 'argon passphrase', { mode: 0o600 });
    const dek = fixedKey('argon2id');
    const vk = await keyFile(dir, 'dek.key', dek);
    await sparseFile(img, 17 << 20);
    const argon = [
      '--pbkdf',
      'argon2id',
      '--pbkdf-force-iterations',
      '4',
      '--pbkdf-memory',
      '1024',
      '--pbkdf-parallel',
      '2',
    ];
    const fmt = await luksFormat(vk, pass, '--batch-mode', ...argon, img);
    assert.equal(fmt.code, 0, fmt.stderr);
    await withHandle(img, async (fh) => {
      const header = await readLuks2Header(fh);
      assert.deepEqual(
        { ...header.json.keyslots['0']?.kdf, salt: '' },
        { type: 'argon2id', time: 4, memory: 1024, cpus: 2, salt: '' },
      );
      const { volumeKey } = await openPassphraseKeyslot(header, fh, secret('argon passphrase'));
      assert.ok(volumeKey.equals(dek));
      volumeKey.dispose();

      const kdf = { type: 'argon2id', time: 2, memory: 2048, parallelism: 4 } as const;
      await addPassphraseKeyslot(fh, header, dek, secret('our argon passphrase'), { kdf, keyslot: '3' });
    });
    const ours = join(dir, 'ours');
    await writeFile(ours, 'our argon passphrase', { mode: 0o600 });
    const ok = await cryptsetup('open', '--test-passphrase', '--key-slot', '3', '--key-file', ours, img);
    assert.equal(ok.code, 0, ok.stderr);
    const dump = await cryptsetup('luksDump', img);
    assert.match(
      dump.stdout,
      /3: luks2[\s\S]*PBKDF:\s+argon2id\s+Time cost:\s+2\s+Memory:\s+2048\s+Threads:\s+4/,
    );
  });
});

/** Encrypts plain as the payload: aes-256-xts per sector, IV = ivTweak + index of the 512-byte unit (LE). */
function encryptPayload(key: SecretBytes, plain: Buffer, sectorSize: number, ivTweak: number): Buffer {
  const out = Buffer.alloc(plain.length);
  const iv = Buffer.alloc(16);
  key.use((k) => {
    for (let at = 0; at < plain.length; at += sectorSize) {
      iv.writeBigUInt64LE(BigInt(ivTweak + at / 512));
      const c = createCipheriv('aes-256-xts', k, iv);
      c.update(plain.subarray(at, at + sectorSize)).copy(out, at);
      c.final();
    }
  });
  return out;
}

test('an independent Python decryptor reads our payload (IV counts 512-byte units, plus iv_tweak)', async (t) => {
  if (!needPeers(t, PYTHON, 'py:cryptography')) return;
  for (const ivTweak of [0, 24]) {
    await withImage(async (dir, img) => {
      const dek = fixedKey(`payload-${ivTweak}`);
      const size = 64 * 4096;
      let header: Luks2Header = await formatLuks2(img, size, {
        volumeKey: dek,
        token: TEST_TOKEN,
        digestIterations: 1000,
      });
      const rnd = prng(42 + ivTweak);
      const plain = Buffer.alloc(size);
      for (let i = 0; i < size; i++) plain[i] = Math.floor(rnd() * 256);
      plain.fill(0, 8192, 16384); // equal plaintext sectors must still give different ciphertext
      await withHandle(img, async (fh) => {
        if (ivTweak !== 0) {
          const json = structuredClone(header.json);
          json.segments['0']!.iv_tweak = String(ivTweak);
          header = await writeLuks2Header(fh, { ...header, json });
        }
        const info = segmentInfo(header);
        const cipher = encryptPayload(dek, plain, info.sectorSize, info.ivTweak);
        assert.notDeepEqual(cipher.subarray(8192, 12288), cipher.subarray(12288, 16384));
        await fh.write(cipher, 0, cipher.length, info.offset);
      });
      const out = join(dir, 'plain.out');
      const r = await run(PYTHON, [DECRYPTOR, img, await keyFile(dir, 'dek.key', dek), out]);
      assert.equal(r.code, 0, r.stderr);
      const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
      assert.equal(sha(await readFile(out)), sha(plain));
    });
  }
});

test('cryptsetup itself decrypts a payload we encrypted (offline reencrypt --decrypt, detached header)', async (t) => {
  if (!needPeers(t, 'cryptsetup')) return;
  await withImage(async (dir, data) => {
    const dek = fixedKey('reencrypt');
    const hdr = join(dir, 'header.img');
    const pass = join(dir, 'pass');
    await writeFile(pass, 'reencrypt passphrase', { mode: 0o600 });
    const size = 64 * 4096;
    await sparseFile(hdr, 16 << 20);
    await sparseFile(data, size);
    const vk = await keyFile(dir, 'dek.key', dek);
    const fmt = await luksFormat(vk, pass, ...FAST, '--header', hdr, '--offset', '0', data);
    assert.equal(fmt.code, 0, fmt.stderr);

    // We read the detached header and encrypt the data device by its segment.
    const info = segmentInfo(await readLuks2Header(await readFile(hdr)));
    assert.deepEqual(info, {
      offset: 0,
      sizeBytes: 'dynamic',
      ivTweak: 0,
      sectorSize: 4096,
      cipher: 'aes-xts-plain64',
    });
    const rnd = prng(7);
    const plain = Buffer.alloc(size);
    for (let i = 0; i < size; i++) plain[i] = Math.floor(rnd() * 256);
    await writeFile(data, encryptPayload(dek, plain, info.sectorSize, info.ivTweak));

    const dec = await cryptsetup(
      'reencrypt',
      '--decrypt',
      '--batch-mode',
      '--force-offline-reencrypt',
      '--key-file',
      pass,
      '--header',
      hdr,
      data,
    );
    assert.equal(dec.code, 0, dec.stderr);
    assert.ok((await readFile(data)).equals(plain), 'cryptsetup recovered our plaintext: same IV rule');
  });
});
