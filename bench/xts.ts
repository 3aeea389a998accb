/**
 * The XTS engine alone against `openssl speed -bytes 4096 -evp aes-256-xts` (the system's OpenSSL,
 * one thread). Ours, in place, on 4096-byte sectors, batch after batch:
 *   - single-threaded: the native engine on the calling thread (inlineBytes above the batch), a
 *     256 KiB batch (the target's figure: per-core speed) and a 64 MiB batch;
 *   - through the libuv pool as the NBD server uses it (one pool thread, one batch at a time, so
 *     every batch pays the hand-off to a pool thread and back), 256 KiB and 64 MiB;
 *   - one 64 MiB batch split over every core;
 *   - the pure-Node fallback for reference.
 *
 *   node dist/bench/xts.js     (CRYPTVISOR_BENCH_SECONDS=2 per measurement, CRYPTVISOR_BENCH_ROUNDS=3)
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { SecretBytes, createXtsKey, getFallbackXtsEngine, getNativeXtsEngine, type XtsEngine, type XtsKey } from '../src/crypto/index.js';

const SECONDS = Number(process.env['CRYPTVISOR_BENCH_SECONDS'] ?? '2');
/** Measurements alternate between openssl and ours, ROUNDS times; the best of each is kept (noise only slows). */
const ROUNDS = Number(process.env['CRYPTVISOR_BENCH_ROUNDS'] ?? '3');
const MB = 1e6;
/** The figure the target is judged on: per-core speed at 4 KiB sectors. */
const PER_CORE = 'native, single-threaded, 256 KiB batches';

/**
 * `openssl speed` in MB/s. By default it divides by the user CPU time of the process; with
 * -elapsed by wall-clock time, which is what our loop measures. On virtual machines whose CPU-time
 * accounting under-reports (this one: 0.24 s user for 1.09 s of busy loop), only -elapsed is a
 * like-for-like baseline, so the ratios use it; both figures are printed.
 */
function opensslSpeed(elapsed: boolean): number | null {
  const args = ['speed', ...(elapsed ? ['-elapsed'] : []), '-bytes', '4096', '-seconds', String(Math.max(1, Math.round(SECONDS)))];
  const r = spawnSync('openssl', [...args, '-evp', 'aes-256-xts'], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  // The last line: "AES-256-XTS    6068345.02k" (1000s of bytes per second).
  const m = /aes-256-xts\s+([\d.]+)k\s*$/im.exec(r.stdout);
  return m?.[1] === undefined ? null : (Number(m[1]) * 1000) / MB;
}

async function throughput(engine: XtsEngine, key: XtsKey, bytes: number): Promise<number> {
  const buf = Buffer.alloc(bytes, 0x5a);
  let unit = 0n;
  const step = BigInt(bytes / 512);
  // Warm up, then run batches back to back for SECONDS.
  await engine.encrypt(key, buf, { sectorSize: 4096, firstUnit: unit });
  let done = 0;
  const start = process.hrtime.bigint();
  const limit = BigInt(Math.round(SECONDS * 1e9));
  let elapsed = 0n;
  do {
    await engine.encrypt(key, buf, { sectorSize: 4096, firstUnit: unit });
    unit += step;
    done += bytes;
    elapsed = process.hrtime.bigint() - start;
  } while (elapsed < limit);
  return done / MB / (Number(elapsed) / 1e9);
}

function row(name: string, mbps: number, base: number | null): string {
  const ratio = base === null ? '' : `  ${((100 * mbps) / base).toFixed(0)}% of openssl`;
  return `${name.padEnd(50)} ${mbps.toFixed(0).padStart(7)} MB/s${ratio}`;
}

async function main(): Promise<void> {
  const secret = SecretBytes.random(64);
  const key = createXtsKey(secret);
  secret.dispose();
  const inline = getNativeXtsEngine({ parallel: 1, inlineBytes: Number.MAX_SAFE_INTEGER });
  const single = getNativeXtsEngine({ parallel: 1, inlineBytes: 0 });
  const multi = getNativeXtsEngine({ inlineBytes: 0 });
  const measures: [string, () => Promise<number | null>][] = [
    ['openssl speed -elapsed -evp aes-256-xts, 4096 B', async () => opensslSpeed(true)],
  ];
  if (inline !== null && single !== null && multi !== null) {
    measures.push(
      [PER_CORE, () => throughput(inline, key, 256 * 1024)],
      ['native, single-threaded, 64 MiB batch', () => throughput(inline, key, 64 << 20)],
      ['native, 1 pool thread, 256 KiB batches', () => throughput(single, key, 256 * 1024)],
      ['native, 1 pool thread, 64 MiB batch', () => throughput(single, key, 64 << 20)],
      [`native, ${availableParallelism()} pool threads, 64 MiB batch`, () => throughput(multi, key, 64 << 20)],
    );
  }
  measures.push(['node fallback, 256 KiB batches', () => throughput(getFallbackXtsEngine(), key, 256 * 1024)]);
  const best = new Map<string, number | null>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of measures) {
      const v = await run();
      const prev = best.get(name);
      best.set(name, v === null ? (prev ?? null) : Math.max(v, prev ?? 0));
    }
  }
  key.dispose();
  const base = best.get(measures[0]?.[0] ?? '') ?? null;
  const lines: string[] = [];
  for (const [name] of measures) {
    const v = best.get(name) ?? null;
    if (v === null) lines.push(`${name}: not available`);
    else lines.push(row(name, v, name.startsWith('openssl') ? null : base));
  }
  if (inline === null) lines.push('native engine: not built (npm install builds it)');
  const perCore = best.get(PER_CORE) ?? null;
  if (perCore !== null && base !== null) {
    const ratio = perCore / base;
    lines.push(`target: native per core >= 80% of openssl speed -elapsed at 4 KiB sectors: ${(100 * ratio).toFixed(0)}% (${ratio >= 0.8 ? 'met' : 'NOT met'})`);
  }
  const cpuTime = opensslSpeed(false);
  if (cpuTime !== null) lines.push(row('openssl speed (user CPU time; see BENCHMARKS.md)', cpuTime, null));
  const [l1] = loadavg();
  lines.push(`best of ${ROUNDS} alternating rounds of ${SECONDS} s; ${availableParallelism()} CPUs, load average ${(l1 ?? 0).toFixed(1)} at the end`);
  for (const l of lines) console.log(l);
}

await main();
