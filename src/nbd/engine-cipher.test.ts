import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SecretBytes, createXtsKey, getFallbackXtsEngine, getNativeXtsEngine, type XtsEngine } from '../crypto/index.js';
import { EngineXtsCipher } from './engine-cipher.js';
import { NodeXtsCipher } from './sector-cipher.js';
import { patternBytes } from './device-test-support.js';

const KEY = Buffer.concat([Buffer.alloc(32, 0x31), Buffer.alloc(32, 0x42)]);

test('the XTS engine cipher gives the same ciphertext as the Node adapter (both engines)', async () => {
  const engines: XtsEngine[] = [getFallbackXtsEngine()];
  const native = getNativeXtsEngine();
  if (native !== null) engines.push(native);
  const data = patternBytes(8 * 4096, 11);
  const ref = Buffer.allocUnsafe(data.length);
  const node = new NodeXtsCipher(KEY);
  await node.encrypt(data, 1234n, ref);
  node.dispose();
  for (const engine of engines) {
    const c = new EngineXtsCipher(createXtsKey(SecretBytes.from(KEY)), engine);
    const out = Buffer.allocUnsafe(data.length);
    await c.encrypt(data, 1234n, out);
    assert.deepEqual(out, ref, engine.name);
    await c.decrypt(out, 1234n);
    assert.deepEqual(out, data, engine.name);
    assert.ok(!String(c).includes('1'));
    c.dispose();
  }
});
