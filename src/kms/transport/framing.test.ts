import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TtlvFramer } from './framing.js';
import { sniff } from './sniff.js';

function message(bodyLen: number, fill = 0): Buffer {
  const b = Buffer.alloc(8 + bodyLen, fill);
  b.writeUIntBE(0x420078, 0, 3);
  b[3] = 0x01;
  b.writeUInt32BE(bodyLen, 4);
  return b;
}

test('framer: splits messages that arrive in pieces and back to back', () => {
  const f = new TtlvFramer(1024);
  const a = message(16, 1);
  const b = message(8, 2);
  const all = Buffer.concat([a, b]);
  const out = [...f.push(all.subarray(0, 3)), ...f.push(all.subarray(3, 20)), ...f.push(all.subarray(20))];
  assert.equal(out.length, 2);
  assert.deepEqual(out[0], { kind: 'message', bytes: a });
  assert.deepEqual(out[1], { kind: 'message', bytes: b });
  assert.equal(f.pending, 0);
});

test('framer: a length over the limit is refused from the header alone', () => {
  const f = new TtlvFramer(1024);
  const head = message(0);
  head.writeUInt32BE(0x7ffffff8, 4);
  const out = f.push(head);
  assert.deepEqual(out, [{ kind: 'too-large', claimed: 8 + 0x7ffffff8 }]);
  assert.deepEqual(f.push(Buffer.alloc(100)), [], 'a failed framer takes nothing more');
});

test('framer: a header that is not a standard-tag Structure is refused', () => {
  assert.equal(new TtlvFramer(1024).push(Buffer.from('4200780200000004', 'hex'))[0]?.kind, 'bad-header');
  assert.equal(new TtlvFramer(1024).push(Buffer.from('ff00780100000008', 'hex'))[0]?.kind, 'bad-header');
  assert.equal(new TtlvFramer(1024).push(Buffer.from('4200780100000005', 'hex'))[0]?.kind, 'bad-header');
});

test('sniff: TTLV, HTTP methods, partial methods and garbage', () => {
  assert.equal(sniff(Buffer.from([0x42])), 'ttlv');
  assert.equal(sniff(Buffer.from('POST /kmip HTTP/1.1\r\n')), 'http');
  assert.equal(sniff(Buffer.from('GET /')), 'http');
  assert.equal(sniff(Buffer.from('PO')), 'need-more');
  assert.equal(sniff(Buffer.alloc(0)), 'need-more');
  assert.equal(sniff(Buffer.from('hello world')), 'unknown');
  assert.equal(sniff(Buffer.from([0x16, 0x03, 0x01])), 'unknown');
});
