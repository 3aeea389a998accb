// The key-wrap format as documented in docs/crypto.md, opened by python3-cryptography's AESGCM
// with the associated data built independently from the same description.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { needPeers, PYTHON } from '../support/peers.js';
import { SecretBytes, wrapKey, type KeyWrapContext } from '../../src/crypto/index.js';
import { seededBytes } from '../../src/crypto/testdata/seeded-bytes.js';

const UNWRAP_PY = `
import sys, json, base64, struct
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
req = json.loads(sys.stdin.read())
kek = bytes.fromhex(req['kek']); blob = base64.b64decode(req['wrapped']); ctx = req['ctx']
def field(s):
    b = s.encode('utf-8'); return struct.pack('>I', len(b)) + b
aad = field('cryptvisor key wrap') + bytes([1]) + struct.pack('>I', ctx['formatVersion']) + \\
      field(ctx['vmUuid']) + field(ctx['slot']) + field(ctx['keyProviderId']) + field(ctx['keyId'])
assert blob[0] == 1
print(AESGCM(kek).decrypt(blob[1:13], blob[13:], aad).hex())
`;

test('python3-cryptography unwraps our wrapped keys by the documented format', (t) => {
  if (!needPeers(t, PYTHON, 'py:cryptography')) return;
  // Test keys from fixed seeds, never real ones.
  const kekRaw = seededBytes('wrap-python-kek', 32);
  const dekRaw = seededBytes('wrap-python-dek', 64);
  const expected = dekRaw.toString('hex');
  const kekHex = kekRaw.toString('hex');
  const kek = SecretBytes.from(kekRaw, { zeroSource: true });
  const dek = SecretBytes.from(dekRaw, { zeroSource: true });
  const ctx: KeyWrapContext = { formatVersion: 1, vmUuid: '0b1e…-vm', slot: 'disk:scsi0-0', keyProviderId: 'kms-ü', keyId: '42' };
  const wrapped = wrapKey(kek, dek, ctx);
  const r = spawnSync(PYTHON, ['-c', UNWRAP_PY], { input: JSON.stringify({ kek: kekHex, wrapped, ctx }), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim() === expected, true, 'python unwraps the same key');
  kek.dispose();
  dek.dispose();
});
