import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentError } from './errors.js';
import { dumpFileId, splitDump } from './dumps.js';

async function* chunks(buf: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield Buffer.from(buf.subarray(i, i + size));
}

function container(report: string, heap: string, meta: object = {}): Buffer {
  const r = Buffer.from(report);
  const line = JSON.stringify({
    hostId: 'h',
    reason: 'on-demand',
    createdAt: 'now',
    reportBytes: r.length,
    ...meta,
  });
  return Buffer.concat([Buffer.from(`CVDUMP1\n${line}\n`), r, Buffer.from(heap)]);
}

async function split(buf: Buffer, size: number) {
  const parts = { report: [] as Buffer[], heap: [] as Buffer[] };
  const meta = await splitDump(chunks(buf, size), {
    report: async (d) => void parts.report.push(Buffer.from(d)),
    heap: async (d) => void parts.heap.push(Buffer.from(d)),
  });
  return { meta, report: Buffer.concat(parts.report).toString(), heap: Buffer.concat(parts.heap).toString() };
}

test('splitDump separates the report and the heap snapshot at any chunk boundary', async () => {
  const buf = container('{"header":{"x":1}}', '{"snapshot":{"node_count":3}}');
  for (const size of [1, 3, 7, 16, 64, 4096]) {
    const r = await split(buf, size);
    assert.equal(r.report, '{"header":{"x":1}}', `chunk ${size}`);
    assert.equal(r.heap, '{"snapshot":{"node_count":3}}', `chunk ${size}`);
    assert.equal(r.meta.reason, 'on-demand');
  }
});

test('splitDump rejects what is not a dump with a specific error', async () => {
  const bad: [Buffer, RegExp][] = [
    [Buffer.from('NOTADUMP\n{}\n'), /bad magic/],
    [Buffer.from('CVDUMP1\n{not json}\n'), /metadata is not JSON/],
    [Buffer.from('CVDUMP1\n{"reportBytes":-1}\n'), /bad report length/],
    [Buffer.from('CVDUMP1\n{"reportBytes":100}\nshort'), /truncated report/],
    [Buffer.from('CVDUMP1\n{"reportBytes":1'), /truncated metadata/],
    [Buffer.concat([Buffer.from('CVDUMP1\n'), Buffer.alloc(5000, 0x61)]), /metadata too long/],
  ];
  for (const [buf, msg] of bad) {
    await assert.rejects(
      split(buf, 1000),
      (err: unknown) => err instanceof AgentError && err.code === 'invalid_request' && msg.test(err.message),
    );
  }
});

test('a dump file id is its base name without .cvdump', () => {
  assert.equal(
    dumpFileId('/d/dumps/dump-20261130T010000Z-crash-0a1b2c3d.cvdump'),
    'dump-20261130T010000Z-crash-0a1b2c3d',
  );
});
