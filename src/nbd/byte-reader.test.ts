import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { ByteReader } from './byte-reader.js';

test('bytes within one chunk are a view; bytes across chunks are gathered into the caller\'s buffer', async () => {
  const s = new PassThrough();
  const r = new ByteReader(1 << 20);
  r.attach(s);
  s.write(Buffer.from('abcdef'));
  s.write(Buffer.from('ghij'));
  await new Promise((res) => setImmediate(res));
  const asked: number[] = [];
  const alloc = (n: number): Buffer => {
    asked.push(n);
    return Buffer.alloc(n, 0x2e);
  };
  assert.equal(r.readNow(2, alloc)?.toString(), 'ab');
  assert.deepEqual(asked, []);
  const spanning = r.readNow(6, alloc);
  assert.equal(spanning?.toString(), 'cdefgh');
  assert.deepEqual(asked, [6]);
  // A read that waits for more bytes gathers into alloc too, once they arrive.
  const later = r.read(5, alloc);
  s.write(Buffer.from('klm'));
  assert.equal((await later).toString(), 'ijklm');
  assert.deepEqual(asked, [6, 5]);
  r.cancel();
});
