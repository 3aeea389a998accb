/**
 * The escrow path, with the KMS stopped (issue 6, docs/recovery.md). A disk is made as an encrypted
 * VM's disk is: a fresh DEK wrapped by a KEK from our KMS into the cryptvisor token, data written
 * through the encrypted device, and an escrow keyslot added with src/luks (argon2id on one disk,
 * pbkdf2 on the other, as an escrow policy would). Then the KMS is stopped (`disk recover` now
 * fails: key unavailable, exit 5) and, offline:
 * 1. `cryptsetup open --test-passphrase` accepts the escrow passphrase (and refuses another);
 * 2. `cryptsetup luksDump --dump-volume-key` (batch mode, passphrase from a key file) gives the volume key,
 *    as hex and as a key file (`--volume-key-file`);
 * 3. the payload read through `disk serve` with that key (nbdcopy) and decrypted by the independent
 *    Python decryptor both match the original.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SecretBytes } from '../../src/crypto/index.js';
import { formatImage, openImage } from '../../src/disk/index.js';
import { addPassphraseKeyslot, readLuks2Header, type KeyslotKdf } from '../../src/luks/index.js';
import { cliAsync, runAsync } from '../support/cli.js';
import { needPeers, PYTHON } from '../support/peers.js';
import { DECRYPTOR, cvAsync, seededBytes, sha, startRecoveryStack, type RecoveryStack } from './stack.js';

const MiB = 1024 * 1024;

interface EscrowDisk {
  readonly img: string;
  readonly passFile: string;
  readonly data: Buffer;
}

const CASES: readonly { name: string; kdf: KeyslotKdf }[] = [
  { name: 'argon2id', kdf: { type: 'argon2id', time: 2, memory: 8192, parallelism: 2 } },
  { name: 'pbkdf2', kdf: { type: 'pbkdf2', iterations: 10_000 } },
];

describe('escrow recovery with the KMS stopped', () => {
  let s: RecoveryStack;
  const disks = new Map<string, EscrowDisk>();

  before(async () => {
    s = await startRecoveryStack({ agent: false });
    await mkdir(join(s.root, 'escrow'), { mode: 0o700 });
    for (const [i, c] of CASES.entries()) {
      const keyId = await s.newKek();
      const kek = (await s.admin.get(keyId)).material;
      const dek = SecretBytes.random(64);
      const img = join(s.root, `${c.name}.img`);
      const data = seededBytes(2 * MiB, 100 + i);
      try {
        await formatImage(img, {
          sizeBytes: data.length,
          volumeKey: dek,
          binding: { kek, keyProviderId: 'kms1', keyId },
        });
        const opened = await openImage(img, dek);
        await opened.device.write(0, data);
        await opened.close();
        const passphrase = `escrow passphrase ${c.name} ${keyId}`;
        const passFile = join(s.root, 'escrow', `${c.name}.pass`);
        await writeFile(passFile, passphrase, { mode: 0o600 });
        const fh = await open(img, 'r+');
        try {
          const pass = SecretBytes.from(Buffer.from(passphrase), { zeroSource: true });
          await addPassphraseKeyslot(fh, await readLuks2Header(fh), dek, pass, { kdf: c.kdf });
          pass.dispose();
        } finally {
          await fh.close();
        }
        disks.set(c.name, { img, passFile, data });
      } finally {
        kek.dispose();
        dek.dispose();
      }
    }
    await s.stopKms();
  });
  after(async () => s?.close());

  it('with the KMS stopped, disk recover cannot fetch the KEK (exit 5)', async () => {
    const d = disks.get('pbkdf2') as EscrowDisk;
    const r = await cvAsync([
      'disk',
      'recover',
      d.img,
      '--data',
      s.data,
      '--volume-key-file',
      join(s.root, 'escrow', 'never.key'),
      '--json',
    ]);
    assert.equal(r.status, 5, r.stdout + r.stderr);
    assert.equal((JSON.parse(r.stdout) as { error: { code: string } }).error.code, 'kms_unavailable');
  });

  for (const c of CASES) {
    it(`${c.name} escrow keyslot: test-passphrase, dump-volume-key, then disk serve and the Python decryptor match`, async (t) => {
      if (!needPeers(t, 'cryptsetup', 'nbdcopy', 'py:cryptography')) return;
      const d = disks.get(c.name) as EscrowDisk;
      const ok = await runAsync('cryptsetup', [
        'open',
        '--test-passphrase',
        '--batch-mode',
        '--key-file',
        d.passFile,
        d.img,
      ]);
      assert.equal(ok.status, 0, ok.stderr);
      const wrong = join(s.root, 'escrow', `${c.name}.wrong`);
      await writeFile(wrong, 'not the escrow passphrase', { mode: 0o600 });
      assert.notEqual(
        (
          await runAsync('cryptsetup', [
            'open',
            '--test-passphrase',
            '--batch-mode',
            '--key-file',
            wrong,
            d.img,
          ])
        ).status,
        0,
      );

      const dump = await runAsync('cryptsetup', [
        'luksDump',
        '--dump-volume-key',
        '--batch-mode',
        '--key-file',
        d.passFile,
        d.img,
      ]);
      assert.equal(dump.status, 0, dump.stderr);
      const hex =
        /MK dump:\s*((?:[0-9a-f]{2}\s+)+)/.exec(dump.stdout.toString())?.[1]?.replace(/\s+/g, '') ?? '';
      assert.equal(hex.length, 128, 'a 512-bit volume key');
      const keyFile = join(s.root, 'escrow', `${c.name}.key`);
      const toFile = await runAsync('cryptsetup', [
        'luksDump',
        '--dump-volume-key',
        '--batch-mode',
        '--key-file',
        d.passFile,
        '--volume-key-file',
        keyFile,
        d.img,
      ]);
      assert.equal(toFile.status, 0, toFile.stderr);
      assert.equal((await readFile(keyFile)).toString('hex'), hex, 'the key file holds the dumped key');

      const sock = join(s.root, 'escrow', `${c.name}.sock`);
      const child = cliAsync([
        'disk',
        'serve',
        d.img,
        '--key-file',
        keyFile,
        '--socket',
        sock,
        '--read-only',
      ]);
      try {
        for (let i = 0; i < 200 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
        const read = await runAsync('nbdcopy', [`nbd+unix:///?socket=${sock}`, '-']);
        assert.equal(read.status, 0, read.stderr);
        assert.equal(sha(read.stdout), sha(d.data), 'disk serve with the escrowed key reads the original');
      } finally {
        await new Promise<void>((resolve) => {
          child.on('exit', () => resolve());
          child.kill('SIGTERM');
        });
      }
      const plain = join(s.root, 'escrow', `${c.name}.plain`);
      const py = await runAsync(PYTHON, [DECRYPTOR, d.img, keyFile, plain]);
      assert.equal(py.status, 0, py.stderr);
      assert.equal(sha(await readFile(plain)), sha(d.data), 'the independent decryptor reads the original');
    });
  }
});
