/**
 * The server against real clients: nbdinfo, nbdcopy, qemu-img and qemu-io, each on a plain file
 * device and on an encrypted device.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { needPeers } from '../support/peers.js';
import { KINDS, deviceHash, run, serve, sha256, sha256File, testData } from './harness.js';

for (const kind of KINDS) {
  test(`nbdinfo reports size, block sizes, flags and exports (${kind})`, async (t) => {
    if (!needPeers(t, 'nbdinfo')) return;
    const s = await serve(t, kind);
    const info = JSON.parse((await run('nbdinfo', ['--json', s.uri])).stdout) as {
      protocol: string;
      exports: Array<Record<string, unknown>>;
    };
    const e = info.exports[0] ?? {};
    assert.equal(e['export-size'], s.size);
    assert.equal(e['block_size_minimum'], 1);
    assert.equal(e['block_size_preferred'], 4096);
    assert.equal(e['block_size_maximum'], 32 * 1024 * 1024);
    for (const flag of ['can_flush', 'can_fua', 'can_multi_conn', 'can_trim', 'can_zero']) assert.equal(e[flag], true, flag);
    assert.equal(e['is_read_only'], false);
    const list = (await run('nbdinfo', ['--list', '--json', s.uri])).stdout;
    const names = (JSON.parse(list) as { exports: Array<{ 'export-name': string; description?: string }> }).exports;
    assert.deepEqual(names.map((x) => x['export-name']).sort(), ['', 'disk']);
    assert.equal(names.find((x) => x['export-name'] === 'disk')?.description, `test ${kind} disk`);
  });

  test(`nbdcopy writes and reads back 8 MiB with matching checksums (${kind})`, async (t) => {
    if (!needPeers(t, 'nbdcopy')) return;
    const s = await serve(t, kind, { size: 8 * 1024 * 1024 });
    const src = join(s.dir, 'src.bin');
    const data = testData(s.size, 42);
    writeFileSync(src, data);
    await run('nbdcopy', ['--connections=4', '--requests=16', src, s.uri]);
    assert.equal(await deviceHash(s.device), sha256(data), 'device content after upload');
    const back = join(s.dir, 'back.bin');
    await run('nbdcopy', [s.uri, back]);
    assert.equal(sha256File(back), sha256(data), 'downloaded content');
  });

  test(`qemu-img info and convert to and from nbd+unix:// (${kind})`, async (t) => {
    if (!needPeers(t, 'qemu-img')) return;
    const s = await serve(t, kind, { size: 4 * 1024 * 1024 });
    const info = JSON.parse((await run('qemu-img', ['info', '--output=json', s.uri])).stdout) as Record<string, unknown>;
    assert.equal(info['virtual-size'], s.size);
    const src = join(s.dir, 'src.raw');
    const data = testData(s.size, 7);
    writeFileSync(src, data);
    await run('qemu-img', ['convert', '-n', '-f', 'raw', '-O', 'raw', src, s.uri]);
    assert.equal(await deviceHash(s.device), sha256(data));
    const out = join(s.dir, 'out.raw');
    await run('qemu-img', ['convert', '-f', 'raw', '-O', 'raw', s.uri, out]);
    assert.equal(sha256File(out), sha256(data));
    await run('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', src, s.uri]);
  });

  test(`qemu-io pattern writes and reads at odd offsets and sizes (${kind})`, async (t) => {
    if (!needPeers(t, 'qemu-io')) return;
    const s = await serve(t, kind, { size: 4 * 1024 * 1024 });
    const ops: Array<[number, number, number]> = [
      [1, 1, 0x11],
      [4095, 2, 0x22],
      [4097, 12345, 0x33],
      [65537, 70001, 0x44],
      [s.size - 777, 777, 0x55],
      [200000, 4096, 0x66],
    ];
    const writes = ops.flatMap(([off, len, p]) => ['-c', `write -P ${p} ${off} ${len}`]);
    await run('qemu-io', ['-f', 'raw', ...writes, s.uri]);
    const reads = ops.flatMap(([off, len, p]) => ['-c', `read -P ${p} ${off} ${len}`]);
    const r = await run('qemu-io', ['-f', 'raw', ...reads, s.uri]);
    assert.ok(!/Pattern verification failed/i.test(r.stdout + r.stderr), r.stdout);
    assert.equal((r.stdout.match(/^read /gm) ?? []).length, ops.length);
    // The bytes around each write are untouched.
    const r2 = await run('qemu-io', ['-f', 'raw', '-c', 'read -P 0 0 1', '-c', 'read -P 0 2 4093', '-c', 'read -P 0 16442 10', s.uri]);
    assert.ok(!/failed/i.test(r2.stdout + r2.stderr), r2.stdout);
    // Write zeroes (unaligned) and discard through qemu.
    await run('qemu-io', ['-f', 'raw', '-c', 'write -z 4099 5000', '-c', 'discard 1048576 65536', s.uri]);
    const r3 = await run('qemu-io', ['-f', 'raw', '-c', 'read -P 0 4099 5000', '-c', 'read -P 0x33 9099 7343', s.uri]);
    assert.ok(!/failed/i.test(r3.stdout + r3.stderr), r3.stdout);
  });
}
