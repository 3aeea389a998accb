/**
 * The host agent (issue 4 "Performance"), in-process on a temporary data directory and datastore:
 *   restart      — an agent with N encrypted VMs (default 500): from startAgent to every VM
 *                  unlocked after the one KEK they share is pushed (target < 3 s)
 *   shallow rekey — a VM with a 10 GiB sparse disk vs one with a 10 MiB disk (target within 2x)
 *   power-on     — an encrypted VM, keys present, from the call to its NBD exports listening
 *                  (target < 100 ms)
 * KEKs are random (no KMS round trip is measured). Medians of several runs.
 *
 *   node dist/bench/agent.js    (CRYPTVISOR_BENCH_AGENT_VMS=500, CRYPTVISOR_BENCH_AGENT_RUNS=5)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { initAgent, startAgent, type RunningAgent } from '../src/agent/index.js';
import { SecretBytes } from '../src/crypto/index.js';

const VMS = Number(process.env['CRYPTVISOR_BENCH_AGENT_VMS'] ?? 500);
const RUNS = Number(process.env['CRYPTVISOR_BENCH_AGENT_RUNS'] ?? 5);
const MiB = 1024 * 1024;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function verdict(ok: boolean): string {
  return ok ? 'met' : 'NOT met';
}

function ms(x: number): string {
  return `${x.toFixed(1)} ms`;
}

/** A KEK the agent holds; `kek` keeps a copy so it can be pushed again after a restart. */
function pushKek(agent: RunningAgent, keyId: string, kek: SecretBytes): Promise<void> {
  agent.keys.add(
    { keyProviderId: 'bench', keyId },
    SecretBytes.from(
      kek.use((b) => Buffer.from(b)),
      { zeroSource: true },
    ),
  );
  return agent.vms.keysChanged();
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'cv-bench-agent-'));
  const dataDir = join(root, 'host');
  await initAgent(dataDir, join(root, 'ds'));
  const keks = [SecretBytes.random(32), SecretBytes.random(32)] as const;
  let agent = await startAgent({ dataDir });
  try {
    await pushKek(agent, 'k0', keks[0]);
    await pushKek(agent, 'k1', keks[1]);
    const enc = { keyProviderId: 'bench', keyId: 'k0' };

    // Shallow rekey: time independent of the disk size.
    await agent.vms.create({ name: 'big', disks: [10 * 1024 * MiB], encryption: enc });
    await agent.vms.create({ name: 'small', disks: [10 * MiB], encryption: enc });
    const rekey: Record<string, number[]> = { big: [], small: [] };
    for (let i = 0; i < RUNS * 2; i++) {
      for (const name of ['small', 'big']) {
        const t0 = performance.now();
        await agent.vms.rekeyShallow(name, { keyProviderId: 'bench', keyId: i % 2 === 0 ? 'k1' : 'k0' });
        (rekey[name] as number[]).push(performance.now() - t0);
      }
    }
    const big = median(rekey['big'] as number[]);
    const small = median(rekey['small'] as number[]);
    console.log(
      `shallow rekey: 10 GiB disk ${ms(big)}, 10 MiB disk ${ms(small)}, ratio ${(big / small).toFixed(2)} (target <= 2: ${verdict(big / small <= 2)})`,
    );

    // Power-on with the keys present: until the NBD exports listen.
    const on: number[] = [];
    for (let i = 0; i < RUNS * 2; i++) {
      const t0 = performance.now();
      await agent.vms.powerOn('small');
      on.push(performance.now() - t0);
      await agent.vms.powerOff('small');
    }
    console.log(`power-on (keys present to NBD export ready): median ${ms(median(on))} (target < 100 ms: ${verdict(median(on) < 100)})`);

    // Restart with VMS encrypted VMs (1 small disk each), all under k0.
    await agent.vms.rekeyShallow('big', enc);
    await agent.vms.rekeyShallow('small', enc);
    const t0 = performance.now();
    for (let i = 0; i < VMS - 2; i++)
      await agent.vms.create({ name: `vm-${i}`, disks: [MiB], encryption: enc });
    console.log(
      `(created ${VMS - 2} more encrypted VMs in ${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
    const restart: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      await agent.close();
      const start = performance.now();
      agent = await startAgent({ dataDir });
      await pushKek(agent, 'k0', keks[0]);
      const vms = await agent.vms.list();
      const locked = vms.filter((v) => v.cryptoState !== 'unlocked').length;
      restart.push(performance.now() - start);
      if (vms.length !== VMS || locked !== 0)
        throw new Error(`after the restart: ${vms.length} VMs, ${locked} locked`);
    }
    console.log(
      `restart with ${VMS} encrypted VMs to all unlocked: median ${ms(median(restart))} (target < 3000 ms: ${verdict(median(restart) < 3000)})`,
    );
    console.log(`load average ${(loadavg()[0] ?? 0).toFixed(1)} at the end (2 shared cores: see BENCHMARKS.md)`);
  } finally {
    await agent.close();
    for (const k of keks) k.dispose();
    await rm(root, { recursive: true, force: true });
  }
}

await main();
