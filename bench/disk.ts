/**
 * `cryptvisor disk encrypt` of a raw image in place, against `qemu-img convert -O luks` of the same
 * image into a new LUKS file, in one run on the same data. Our default (kill -9-safe) mode and the
 * power-loss-safe `--durable` mode are measured separately. Target: default mode >= 5x qemu-img.
 *
 * Knobs: CRYPTVISOR_BENCH_DISK_SIZE (default 1G), CRYPTVISOR_BENCH_ROUNDS (default 3).
 * Run: npx tsc -p tsconfig.json && node dist/bench/disk.js
 */
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSize } from '../src/common/size.js';

const CLI = fileURLToPath(new URL('../../bin/cryptvisor.js', import.meta.url));
const size = parseSize(process.env['CRYPTVISOR_BENCH_DISK_SIZE'] ?? '1G');
const rounds = Number(process.env['CRYPTVISOR_BENCH_ROUNDS'] ?? 3);
const dir = mkdtempSync(join(tmpdir(), 'cv-bench-disk-'));

function writeRandomImage(path: string): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(8 * 1024 * 1024);
  for (let at = 0; at < size; at += chunk.length) {
    randomFillSync(chunk);
    writeSync(fd, chunk, 0, Math.min(chunk.length, size - at));
  }
  closeSync(fd);
}

function timed(cmd: string, args: string[]): number {
  spawnSync('sync');
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return s;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

const key = join(dir, 'k.key');
if (spawnSync(process.execPath, [CLI, 'disk', 'keygen', key]).status !== 0) throw new Error('keygen failed');
const secret = join(dir, 'secret');
writeFileSync(secret, 'bench passphrase', { mode: 0o600 });

const results: Record<string, number[]> = { ours: [], oursDurable: [], qemu: [] };
try {
  for (let r = 0; r < rounds; r++) {
    const raw = join(dir, 'raw.img');
    writeRandomImage(raw);
    // qemu-img reads raw.img and writes a new LUKS file (it cannot convert in place).
    const luks = join(dir, 'qemu.luks');
    results['qemu']?.push(
      timed('qemu-img', ['convert', '-f', 'raw', '-O', 'luks', '--object', `secret,id=sec0,file=${secret}`, '-o', 'key-secret=sec0', raw, luks]),
    );
    rmSync(luks, { force: true });
    results['ours']?.push(timed(process.execPath, [CLI, 'disk', 'encrypt', raw, '--key-file', key]));
    rmSync(raw, { force: true });
    writeRandomImage(raw);
    results['oursDurable']?.push(timed(process.execPath, [CLI, 'disk', 'encrypt', raw, '--key-file', key, '--durable']));
    rmSync(raw, { force: true });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const mib = size / (1024 * 1024);
const q = median(results['qemu'] as number[]);
console.log(`disk encrypt of ${mib} MiB in place vs qemu-img convert -O luks (median of ${rounds}):`);
for (const [name, label] of [
  ['qemu', 'qemu-img convert -O luks'],
  ['ours', 'cryptvisor disk encrypt (kill -9-safe)'],
  ['oursDurable', 'cryptvisor disk encrypt --durable'],
] as const) {
  const m = median(results[name] as number[]);
  console.log(`  ${label.padEnd(40)} ${m.toFixed(2).padStart(7)} s  ${(mib / m).toFixed(0).padStart(5)} MiB/s  ${(q / m).toFixed(2)}x qemu-img`);
}
