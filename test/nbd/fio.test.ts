/**
 * fio with its nbd engine (libnbd): a short concurrent integrity run at queue depth 16 with
 * crc32c verification, aligned (4 KiB) and unaligned (1536-byte blocks, so concurrent writes
 * share 4096-byte sectors and exercise the read-modify-write locks), on both device kinds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needPeers } from '../support/peers.js';
import { KINDS, run, serve } from './harness.js';

for (const kind of KINDS) {
  test(`fio nbd engine, iodepth 16, verify=crc32c (${kind})`, async (t) => {
    if (!needPeers(t, 'fio')) return;
    const s = await serve(t, kind, { size: 4 * 1024 * 1024 });
    const common = ['--ioengine=nbd', `--uri=${s.uri}`, '--iodepth=16', '--size=2M', '--verify=crc32c', '--verify_fatal=1', '--verify_state_save=0', '--randseed=1130'];
    const r = await run('fio', [
      '--output-format=json',
      '--name=aligned', ...common, '--rw=randwrite', '--bs=4k', '--offset=0',
      '--name=unaligned', ...common, '--rw=randwrite', '--bs=1536', '--offset=2M', '--stonewall',
    ], { timeoutMs: 120_000 });
    const out = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { jobs: Array<{ jobname: string; error: number; write: { io_bytes: number }; read: { io_bytes: number } }> };
    assert.equal(out.jobs.length, 2);
    for (const job of out.jobs) {
      assert.equal(job.error, 0, job.jobname);
      assert.ok(job.write.io_bytes >= 2 * 1024 * 1024 - 1536, `${job.jobname} wrote ${job.write.io_bytes}`);
      assert.ok(job.read.io_bytes > 0, `${job.jobname} verified by reading back`);
    }
  });
}
