/**
 * center at scale (issue 5 "Performance"): our KMS (`cryptvisor kms serve`, its own process,
 * SQLite), center in this process (so its KMIP Get counter is read directly), and two agents
 * (`cryptvisor agent serve`, each its own process) sharing one datastore.
 *   setup   — N VMs (default 1,000; tiny 4 KiB disks), half on each host, each with its own KEK,
 *             created through center's vm.create tasks
 *   rekey   — shallow rekey of every VM through center's vm.rekey tasks (new KEK at the KMS,
 *             DEKs re-wrapped on the agent), 32 tasks in flight (target < 30 s)
 *   restart — kill -9 of host-1's agent (N/2 locked VMs after it comes back), then one heartbeat:
 *             from the agent accepting connections again to every VM unlocked (target < 5 s),
 *             with exactly one KMIP Get per distinct key (KEK cache off, as by default)
 * Medians of BENCH_ROUNDS rounds (default 3).
 *
 *   npm run bench -- center     (CRYPTVISOR_BENCH_CENTER_VMS=1000, BENCH_ROUNDS=3)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initAgent } from '../src/agent/index.js';
import { initCenter, passwordLogin, startCenter, type CenterClient, type RunningCenter } from '../src/center/index.js';
import { freePort } from '../test/pykmip/server-harness.js';
import { accepts, addTrustedProvider, finishTask } from '../test/center/ops-helpers.js';

const VMS = Number(process.env['CRYPTVISOR_BENCH_CENTER_VMS'] ?? 1000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const IN_FLIGHT = 32;
const CLI = new URL('../../bin/cryptvisor.js', import.meta.url).pathname;
const PASSWORD = 'bench-admin-password';

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** Spawns `cryptvisor ARGS` and resolves once it accepts connections on port. */
async function serve(args: readonly string[], port: number): Promise<ChildProcess> {
  const proc = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`cryptvisor ${args.join(' ')} exited: ${err}`);
    if (await accepts(port)) return proc;
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function run(args: readonly string[]): Promise<void> {
  const proc = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((r) => proc.once('exit', r));
  if (code !== 0) throw new Error(`cryptvisor ${args.join(' ')} failed: ${err}`);
}

/** Runs fn over items with at most n in flight. */
async function pool<T>(items: readonly T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

interface AgentVm {
  readonly name: string;
  readonly cryptoState: string;
  readonly keyId: string | null;
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'cv-bench-center-'));
  const procs: ChildProcess[] = [];
  let center: RunningCenter | undefined;
  try {
    // KMS
    const kmsDir = join(root, 'kms');
    await run(['kms', 'init', '--data', kmsDir, '--san', '127.0.0.1']);
    const kmsPort = await freePort();
    procs.push(await serve(['kms', 'serve', '--data', kmsDir, '--host', '127.0.0.1', '--port', String(kmsPort)], kmsPort));

    // center, heartbeat and alarm timers out of the way (the bench runs its heartbeats itself)
    const centerDir = join(root, 'center');
    await initCenter(centerDir, { adminUser: 'admin', adminPassword: PASSWORD });
    center = await startCenter({ dataDir: centerDir, host: '127.0.0.1', port: 0, heartbeatSeconds: 3600, alarmCheckSeconds: 0 });
    const ca = await readFile(join(centerDir, 'pki', 'ca.pem'), 'utf8');
    const admin: CenterClient = (await passwordLogin(center.url, { ca }, 'admin', PASSWORD)).client;
    await addTrustedProvider(admin, 'kms1', `127.0.0.1:${kmsPort}`, await readFile(join(kmsDir, 'pki', 'ca.pem'), 'utf8'), join(kmsDir, 'pki'));

    // two agents on one datastore
    const agents: { name: string; dir: string; port: number; proc: ChildProcess }[] = [];
    for (const name of ['host-1', 'host-2']) {
      const dir = join(root, 'hosts', name);
      const port = await freePort();
      const init = await initAgent(dir, join(root, 'datastore'), { sans: ['127.0.0.1'], port });
      const proc = await serve(['agent', 'serve', '--data', dir], port);
      procs.push(proc);
      agents.push({ name, dir, port, proc });
      await admin.call('POST', '/api/v1/hosts', {
        name,
        url: `https://127.0.0.1:${port}`,
        token: init.enrollmentToken,
        fingerprint: init.fingerprint,
      });
    }

    const names = Array.from({ length: VMS }, (_, i) => `vm-${String(i).padStart(4, '0')}`);
    let t0 = performance.now();
    await pool(names, IN_FLIGHT, async (name) => {
      const host = Number(name.slice(3)) % 2 === 0 ? 'host-1' : 'host-2';
      await finishTask(admin, await admin.call('POST', '/api/v1/vms', { name, host, disks: '4096', policy: 'VM Encryption Policy' }));
    });
    console.log(`setup: ${VMS} encrypted VMs created through center in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const h1 = await center.store.getHost('host-1');
    const listHost1 = (): Promise<AgentVm[]> => center!.hosts.call<AgentVm[]>(h1, 'GET', '/api/v1/vms');
    // Where a push's time goes: one agent call (a pinned mutual-TLS connection each) and one KMIP Get.
    const anyKey = (await listHost1())[0]?.keyId ?? '';
    const { client: kmip } = await center.providers.client('kms1');
    const callMs: number[] = [];
    const getMs: number[] = [];
    for (let i = 0; i < 20; i++) {
      let t = performance.now();
      await center.hosts.call(h1, 'GET', '/api/v1/info');
      callMs.push(performance.now() - t);
      t = performance.now();
      (await kmip.get(anyKey)).material.dispose();
      getMs.push(performance.now() - t);
    }
    console.log(`per push: agent call ${median(callMs).toFixed(1)} ms, KMIP Get ${median(getMs).toFixed(1)} ms (medians of 20)`);
    const rekeys: number[] = [];
    const restarts: number[] = [];
    const boots: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const before = new Map((await listHost1()).map((v) => [v.name, v.keyId]));
      t0 = performance.now();
      await pool(names, IN_FLIGHT, async (name) => {
        await finishTask(admin, await admin.call('POST', `/api/v1/vms/${name}/rekey`, {}));
      });
      const rekey = (performance.now() - t0) / 1000;
      const after = await listHost1();
      if (after.some((v) => v.keyId === before.get(v.name))) throw new Error('a VM kept its KEK after the rekey');
      rekeys.push(rekey);
      console.log(`round ${round + 1}: shallow rekey of ${VMS} VMs through center: ${rekey.toFixed(2)} s`);

      const a = agents[0]!;
      a.proc.kill('SIGKILL');
      await new Promise((r) => a.proc.once('exit', r));
      const tBoot = performance.now();
      a.proc = await serve(['agent', 'serve', '--data', a.dir], a.port);
      procs.push(a.proc);
      const t1 = performance.now();
      const locked = (await listHost1()).filter((v) => v.cryptoState === 'locked').length;
      const gets = center.metrics.kmipCount('get');
      const hb = await admin.call<{ error: string | null; keysPushed: number }>('POST', '/api/v1/hosts/host-1/heartbeat');
      const vms = await listHost1();
      const unlockedAt = (performance.now() - t1) / 1000;
      if (hb.error !== null) throw new Error(`heartbeat failed: ${hb.error}`);
      const still = vms.filter((v) => v.cryptoState !== 'unlocked').length;
      const distinct = new Set(vms.map((v) => v.keyId)).size + 1; // + the host key
      const getCount = center.metrics.kmipCount('get') - gets;
      if (still > 0) throw new Error(`${still} VMs still locked after the heartbeat`);
      restarts.push(unlockedAt);
      boots.push((t1 - tBoot) / 1000);
      console.log(
        `round ${round + 1}: host restart: ${locked} locked VMs → all unlocked in ${unlockedAt.toFixed(2)} s after the agent listened (agent start ${((t1 - tBoot) / 1000).toFixed(2)} s); KMIP Gets ${getCount} for ${distinct} distinct keys (${hb.keysPushed} KEKs + host key)`,
      );
      if (getCount !== distinct) throw new Error(`expected one Get per distinct key: ${getCount} Gets, ${distinct} keys`);
    }
    console.log('');
    console.log(`median shallow rekey of ${VMS} VMs: ${median(rekeys).toFixed(2)} s (target < 30 s)`);
    console.log(`median host restart, ${VMS / 2} locked VMs → all unlocked: ${median(restarts).toFixed(2)} s (target < 5 s); agent start ${median(boots).toFixed(2)} s`);
  } finally {
    await center?.close();
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    await rm(root, { recursive: true, force: true });
  }
}

await main();
