// The native XTS addon links no libcrypto of its own: its OpenSSL symbols are undefined in the
// addon and resolve to the ones the node binary exports. And the engine choice can be forced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { IN_CI, needPeers } from '../support/peers.js';

const ADDON = new URL('../../../native/build/Release/cryptvisor_xts.node', import.meta.url).pathname;
const CRYPTO_INDEX = new URL('../../src/crypto/index.js', import.meta.url).pathname;

test('the addon is built and uses the OpenSSL that node exports (no libcrypto/libssl of its own)', (t) => {
  if (!existsSync(ADDON)) {
    if (IN_CI) assert.fail('native/build/Release/cryptvisor_xts.node is missing (npm ci builds it)');
    t.skip('the native addon is not built (npm install builds it)');
    return;
  }
  if (!needPeers(t, 'ldd', 'nm')) return;
  const ldd = spawnSync('ldd', [ADDON], { encoding: 'utf8' });
  assert.equal(ldd.status, 0, ldd.stderr);
  assert.doesNotMatch(ldd.stdout, /libcrypto|libssl/);
  const undef = spawnSync('nm', ['-D', '--undefined-only', ADDON], { encoding: 'utf8' }).stdout;
  for (const sym of ['EVP_CIPHER_CTX_new', 'EVP_CipherInit_ex', 'EVP_CipherUpdate', 'EVP_aes_256_xts', 'OPENSSL_cleanse']) {
    assert.match(undef, new RegExp(`\\bU ${sym}\\b`), `${sym} is taken from node`);
  }
  const exported = spawnSync('nm', ['-D', '--defined-only', process.execPath], { encoding: 'utf8', maxBuffer: 1 << 28 }).stdout;
  assert.match(exported, /\bT EVP_aes_256_xts\b/, 'node exports the OpenSSL symbols');
});

test('getXtsEngine() names its engine; CRYPTVISOR_XTS_ENGINE=node forces the fallback', () => {
  const script = `const c = await import(${JSON.stringify(CRYPTO_INDEX)}); console.log(c.getXtsEngine().name);`;
  const run = (env: NodeJS.ProcessEnv): string =>
    spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, ...env } }).stdout.trim();
  assert.equal(run({ CRYPTVISOR_XTS_ENGINE: 'node' }), 'node');
  assert.equal(run({ CRYPTVISOR_XTS_ENGINE: '' }), existsSync(ADDON) ? 'native' : 'node');
});

test('batches on the provider-direct path and on the plain EVP path give the same bytes', (t) => {
  if (!existsSync(ADDON)) {
    if (IN_CI) assert.fail('the native addon is not built');
    t.skip('the native addon is not built');
    return;
  }
  // Each child encrypts one fixed batch of 4096-byte sectors with the native engine and prints it.
  const script = `
    const c = await import(${JSON.stringify(CRYPTO_INDEX)});
    const { createRequire } = await import('node:module');
    const { createHash } = await import('node:crypto');
    const addon = createRequire(import.meta.url)(${JSON.stringify(ADDON)});
    const key = c.createXtsKey(c.SecretBytes.from(Buffer.from([...Array(64).keys()].map((i) => (i * 37 + 11) & 0xff))));
    const data = Buffer.from([...Array(64 * 1024).keys()].map((i) => (i * 7) & 0xff));
    for (const enc of [true, false]) {
      const buf = Buffer.from(data);
      const engine = c.getNativeXtsEngine({ parallel: 1 });
      await (enc ? engine.encrypt : engine.decrypt)(key, buf, { sectorSize: 4096, firstUnit: 123456n });
      console.log(addon.direct, createHash('sha256').update(buf).digest('hex'));
    }`;
  const run = (evp: string): string[] =>
    spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, CRYPTVISOR_XTS_EVP: evp } })
      .stdout.trim()
      .split('\n');
  const direct = run('');
  const evp = run('1');
  assert.equal(direct.length, 2);
  assert.ok(direct.every((l) => l.startsWith('true ')), direct.join('\n'));
  assert.ok(evp.every((l) => l.startsWith('false ')), evp.join('\n'));
  assert.deepEqual(
    direct.map((l) => l.split(' ')[1]),
    evp.map((l) => l.split(' ')[1]),
  );
});
