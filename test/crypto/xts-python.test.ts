// The XTS engine against an independent decryptor: python3-cryptography (Debian's /usr/bin/python3)
// decrypts our 4096-byte sectors with the LUKS2/dm-crypt plain64 IV (iv_tweak + 512-byte unit index).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { needPeers, PYTHON } from '../support/peers.js';
import { SecretBytes, createXtsKey, getFallbackXtsEngine, getNativeXtsEngine, type XtsEngine } from '../../src/crypto/index.js';
import { seededBytes } from '../../src/crypto/testdata/seeded-bytes.js';

const DECRYPT_PY = `
import sys
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
key = bytes.fromhex(sys.argv[1]); first = int(sys.argv[2]); size = int(sys.argv[3])
data = sys.stdin.buffer.read(); out = bytearray()
for i in range(0, len(data), size):
    unit = first + i // 512
    d = Cipher(algorithms.AES(key), modes.XTS(unit.to_bytes(16, 'little'))).decryptor()
    out += d.update(data[i:i + size]) + d.finalize()
sys.stdout.buffer.write(bytes(out))
`;

test('python3-cryptography decrypts what both engines encrypt (4096- and 512-byte sectors)', async (t) => {
  if (!needPeers(t, PYTHON, 'py:cryptography')) return;
  // A test key (fixed seed), never a real one: passing it on argv is fine here.
  const raw = seededBytes('python-peer-key', 64);
  const keyHex = raw.toString('hex');
  const secret = SecretBytes.from(raw, { zeroSource: true });
  const key = createXtsKey(secret);
  secret.dispose();
  const engines: XtsEngine[] = [getFallbackXtsEngine()];
  const native = getNativeXtsEngine();
  if (native !== null) engines.push(native);
  for (const engine of engines) {
    for (const [size, first] of [
      [4096, 0n],
      [4096, 32768n + 5n],
      [512, 123456789n],
    ] as const) {
      const plain = seededBytes(`python-peer-${size}-${first}`, 32 * size);
      const ct = Buffer.from(plain);
      await engine.encrypt(key, ct, { sectorSize: size, firstUnit: first });
      const r = spawnSync(PYTHON, ['-c', DECRYPT_PY, keyHex, String(first), String(size)], { input: ct, maxBuffer: 1 << 24 });
      assert.equal(r.status, 0, r.stderr.toString());
      assert.equal(r.stdout.equals(plain), true, `${engine.name} ${size} ${first}`);
    }
  }
  key.dispose();
});
