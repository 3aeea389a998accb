/**
 * The offline disk tools through the real command: format, describe, encrypt, serve (read by
 * libnbd's nbdcopy and nbdinfo, and by qemu-img), rekey, decrypt, checked by cryptsetup and by an
 * independent decryption with Node's own XTS, plus the errors and exit codes of DESIGN.md §10.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, cliAsync } from '../support/cli.js';
import { needPeers } from '../support/peers.js';
import { xtsTransform } from '../support/xts-node.js';

const MiB = 1024 * 1024;

function sha(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

function workdir(): string {
  return mkdtempSync(join(tmpdir(), 'cv-disk-'));
}

function keygen(dir: string, name: string): string {
  const p = join(dir, name);
  assert.equal(cli(['disk', 'keygen', p]).status, 0);
  return p;
}

async function serving(args: string[], socket: string): Promise<ChildProcess> {
  const child = cliAsync(args);
  for (let i = 0; i < 200 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(existsSync(socket), 'the export socket appears');
  return child;
}

async function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.on('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

test('disk format makes a LUKS2 image that cryptsetup reads, with a token and no keyslot', (t) => {
  if (!needPeers(t, 'cryptsetup')) return;
  const dir = workdir();
  const key = keygen(dir, 'k');
  const kek = join(dir, 'kek');
  writeFileSync(kek, randomBytes(32), { mode: 0o600 });
  const img = join(dir, 'd.img');
  const r = cli(['disk', 'format', img, '--size', '64M', '--key-file', key, '--key-provider', 'kp', '--key-id', 'kid-1', '--kek-file', kek, '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(img).length, 16 * MiB + 64 * MiB);
  const dump = spawnSync('cryptsetup', ['luksDump', img], { encoding: 'utf8' });
  assert.equal(dump.status, 0, dump.stderr);
  assert.match(dump.stdout, /cipher:\s+aes-xts-plain64/);
  assert.match(dump.stdout, /sector:\s+4096 \[bytes\]/);
  assert.match(dump.stdout, /offset:\s+16777216 \[bytes\]/);
  assert.match(dump.stdout, /0: cryptvisor/);
  assert.doesNotMatch(dump.stdout, /^\s+\d+: luks2/m, 'no keyslot');
  // cryptsetup accepts the volume key file as the disk's key.
  const pass = join(dir, 'pass');
  writeFileSync(pass, 'escrow passphrase', { mode: 0o600 });
  const add = spawnSync('cryptsetup', ['luksAddKey', '--batch-mode', '--pbkdf', 'pbkdf2', '--pbkdf-force-iterations', '1000', '--key-size', '512', '--volume-key-file', key, img, pass], { encoding: 'utf8' });
  assert.equal(add.status, 0, add.stderr);

  const d = cli(['disk', 'describe', img, '--json']);
  assert.equal(d.status, 0);
  const desc = JSON.parse(d.stdout) as { sizeBytes: number; token: { keyId: string; dekWrapped: boolean }; keyslots: string[] };
  assert.equal(desc.sizeBytes, 64 * MiB);
  assert.deepEqual(desc.token, { keyProviderId: 'kp', keyId: 'kid-1', dekWrapped: true });
  assert.equal(desc.keyslots.length, 1);
  for (const secret of [readFileSync(key), readFileSync(kek)]) {
    assert.ok(!d.stdout.includes(secret.toString('hex')) && !d.stdout.includes(secret.toString('base64')), 'no key in describe');
  }
});

test('disk format without a KEK says the DEK is not wrapped; refuses to overwrite; bad key files', () => {
  const dir = workdir();
  const key = keygen(dir, 'k');
  const img = join(dir, 'd.img');
  assert.equal(cli(['disk', 'format', img, '--size', '1M', '--key-file', key]).status, 0);
  assert.match(cli(['disk', 'describe', img]).stdout, /DEK is not wrapped/);
  const again = cli(['disk', 'format', img, '--size', '1M', '--key-file', key, '--json']);
  assert.equal(again.status, 1);
  assert.equal((JSON.parse(again.stdout) as { error: { code: string } }).error.code, 'image_exists');

  const open = join(dir, 'open-key');
  writeFileSync(open, randomBytes(64));
  chmodSync(open, 0o644);
  assert.equal(cli(['disk', 'format', join(dir, 'x.img'), '--size', '1M', '--key-file', open]).status, 4);
  const short = join(dir, 'short-key');
  writeFileSync(short, randomBytes(32), { mode: 0o600 });
  const s = cli(['disk', 'format', join(dir, 'y.img'), '--size', '1M', '--key-file', short, '--json']);
  assert.equal(s.status, 2);
  assert.equal((JSON.parse(s.stdout) as { error: { code: string } }).error.code, 'key_file_invalid');
  assert.equal(cli(['disk', 'format', join(dir, 'z.img'), '--size', '1000', '--key-file', key]).status, 2, 'size not a multiple of 4096');
  assert.equal(cli(['disk', 'describe', join(dir, 'missing.img')]).status, 3);
});

test('disk encrypt, serve, rekey and decrypt: real NBD clients read the plaintext; cryptsetup agrees', async (t) => {
  if (!needPeers(t, 'nbdcopy', 'nbdinfo', 'qemu-img', 'cryptsetup')) return;
  const dir = workdir();
  const k1 = keygen(dir, 'k1');
  const k2 = keygen(dir, 'k2');
  const raw = randomBytes(20 * MiB);
  const img = join(dir, 'vm.img');
  writeFileSync(img, raw);

  assert.equal(cli(['disk', 'encrypt', img, '--key-file', k1]).status, 0);
  const enc = readFileSync(img);
  assert.equal(enc.length, raw.length + 16 * MiB);
  assert.equal(enc.indexOf(raw.subarray(0, 4096)), -1, 'no plaintext sector in the image');
  const payload = Buffer.from(enc.subarray(16 * MiB));
  await xtsTransform(readFileSync(k1), 'decrypt')(payload, 0n);
  assert.equal(sha(payload), sha(raw), 'an independent XTS decryption agrees');
  const dumped = spawnSync('cryptsetup', ['luksDump', img], { encoding: 'utf8' });
  assert.equal(dumped.status, 0, dumped.stderr);

  // A wrong key is refused with exit 5 (key unavailable).
  assert.equal(cli(['disk', 'serve', img, '--key-file', k2, '--socket', join(dir, 'no.sock')]).status, 5);

  const sock = join(dir, 's', 'nbd.sock');
  const server = await serving(['disk', 'serve', img, '--key-file', k1, '--socket', sock, '--export', 'vm'], sock);
  const uri = `nbd+unix:///?socket=${sock}`;
  const info = spawnSync('nbdinfo', ['--json', uri], { encoding: 'utf8' });
  assert.equal(info.status, 0, info.stderr);
  assert.equal((JSON.parse(info.stdout) as { exports: { 'export-size': number }[] }).exports[0]?.['export-size'], raw.length);
  const copy = spawnSync('nbdcopy', [uri, '-'], { maxBuffer: 64 * MiB });
  assert.equal(copy.status, 0);
  assert.equal(sha(copy.stdout), sha(raw), 'nbdcopy reads the plaintext');
  const named = spawnSync('nbdcopy', [`nbd+unix:///vm?socket=${sock}`, '-'], { maxBuffer: 64 * MiB });
  assert.equal(sha(named.stdout), sha(raw), 'the named export serves the same disk');
  // Write through qemu-img, then read it back.
  const patch = join(dir, 'patch.raw');
  const newData = randomBytes(20 * MiB);
  writeFileSync(patch, newData);
  const conv = spawnSync('qemu-img', ['convert', '-n', '-f', 'raw', '-O', 'raw', patch, uri], { encoding: 'utf8' });
  assert.equal(conv.status, 0, conv.stderr);
  assert.equal(await stop(server), 0, 'serve exits 0 on SIGTERM');

  assert.equal(cli(['disk', 'rekey', img, '--key-file', k1, '--new-key-file', k2]).status, 0);
  assert.equal(cli(['disk', 'serve', img, '--key-file', k1, '--socket', join(dir, 'old.sock')]).status, 5, 'the old key no longer opens it');
  assert.equal(cli(['disk', 'decrypt', img, '--key-file', k2]).status, 0);
  assert.equal(sha(readFileSync(img)), sha(newData), 'decrypt gives back what the NBD client wrote');
});

test('disk serve over TCP requires TLS', () => {
  const dir = workdir();
  const key = keygen(dir, 'k');
  const img = join(dir, 'd.img');
  assert.equal(cli(['disk', 'format', img, '--size', '1M', '--key-file', key]).status, 0);
  const r = cli(['disk', 'serve', img, '--key-file', key, '--port', '0']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /requires TLS/);
});
