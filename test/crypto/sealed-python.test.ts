// The sealed-file format as documented in docs/formats.md, read by an independent implementation:
// python3-cryptography (HKDF-SHA256, AES-GCM) parses the header and opens every chunk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needPeers, PYTHON } from '../support/peers.js';
import { SecretBytes, createSealedWriter } from '../../src/crypto/index.js';
import { seededBytes } from '../../src/crypto/testdata/seeded-bytes.js';

const OPEN_PY = `
import sys, struct
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives import hashes
key = bytes.fromhex(sys.stdin.readline().strip())
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'CVSEALED' and data[8] == 1 and data[9] == 1 and data[11] == 0
chunk = 1 << data[10]
salt, prefix = data[12:28], data[28:35]
plen = data[35]; purpose = data[36:36 + plen]
(flen,) = struct.unpack('>H', data[36 + plen:38 + plen]); file_id = data[38 + plen:38 + plen + flen]
hlen = 38 + plen + flen; header = data[:hlen]
info = b'cryptvisor sealed file v1' + bytes([plen]) + purpose + struct.pack('>H', flen) + file_id
fkey = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(key)
body = data[hlen:]; rec = chunk + 16
n = max(1, -(-len(body) // rec)); out = b''
for i in range(n):
    nonce = prefix + struct.pack('>I', i) + bytes([1 if i == n - 1 else 0])
    out += AESGCM(fkey).decrypt(nonce, body[i * rec:(i + 1) * rec], header)
sys.stdout.write(purpose.decode() + '\\n' + file_id.decode() + '\\n' + out.hex() + '\\n')
`;

test('python3-cryptography opens our sealed files by the documented format', async (t) => {
  if (!needPeers(t, PYTHON, 'py:cryptography')) return;
  const dir = await mkdtemp(join(tmpdir(), 'cv-sealed-py-'));
  try {
    const raw = seededBytes('sealed-python-key', 32); // a test key, never a real one
    const keyHex = raw.toString('hex');
    const key = SecretBytes.from(raw, { zeroSource: true });
    for (const n of [0, 4096, 4096 * 3 + 123]) {
      const data = seededBytes(`sealed-python-${n}`, n);
      const path = join(dir, `f-${n}`);
      const w = await createSealedWriter(key, path, { purpose: 'vm-suspend', fileId: `vm-é/${n}`, chunkSizeLog2: 12 });
      await w.write(data);
      await w.finish();
      const r = spawnSync(PYTHON, ['-c', OPEN_PY, path], { input: keyHex + '\n', encoding: 'utf8', maxBuffer: 1 << 24 });
      assert.equal(r.status, 0, r.stderr);
      const [purpose, fileId, hex] = r.stdout.split('\n');
      assert.equal(purpose, 'vm-suspend');
      assert.equal(fileId, `vm-é/${n}`);
      assert.equal(hex, data.toString('hex'), `${n} bytes`);
    }
    key.dispose();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
