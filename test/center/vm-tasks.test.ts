/**
 * VM operations as center tasks, through the real `cryptvisor` CLI against our KMS, a center and
 * an agent over real TLS. center runs as its own process (`center serve`) so it can be killed
 * with SIGKILL in the middle of an encrypt-existing task: the agent keeps converting, the
 * restarted center resumes the task (same KEK, no second conversion), and the data is checked
 * after a decrypt. Also: --no-wait then task wait, exit codes (3 unknown VM, 4 denied, 5 locked
 * VM naming its key ID, 1 a rule refused), rekey shallow and deep, unlock, disks, import,
 * unregister/register, delete.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { CenterClient, type TaskRecord, type VmJson } from '../../src/center/index.js';
import { CenterStore } from '../../src/center/store/index.js';
import { CLI } from '../support/cli.js';
import { ADMIN_PASSWORD, cv, startTestStack, type TestStack } from './harness.js';

const MiB = 1024 * 1024;
const DISK = 40 * MiB;

/** Deterministic test data (AES-CTR keystream of a fixed test key over zeros): not key material. */
function pattern(bytes: number, seed: number): Buffer {
  const c = createCipheriv('aes-128-ctr', Buffer.alloc(16, seed), Buffer.alloc(16, 0));
  return Buffer.concat([c.update(Buffer.alloc(bytes)), c.final()]);
}

describe('VM operations as center tasks (CLI, real KMS + center process + agent)', () => {
  let s: TestStack;
  let center: ChildProcess | undefined;
  let env: NodeJS.ProcessEnv;
  let port: number;
  let centerDir: string;

  /** Starts `cryptvisor center serve` on the same port and waits until it answers. */
  async function startCenterProcess(): Promise<ChildProcess> {
    const child = spawn(
      process.execPath,
      [CLI, 'center', 'serve', '--data', centerDir, '--port', String(port)],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { PATH: process.env['PATH'] },
      },
    );
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const client = new CenterClient(`https://127.0.0.1:${port}`, { ca: s.center.ca });
    for (let i = 0; i < 200; i++) {
      if (child.exitCode !== null) throw new Error(`center serve exited: ${err}`);
      if (
        await client.call('GET', '/api/v1/health').then(
          () => true,
          () => false,
        )
      )
        return child;
      await sleep(100);
    }
    throw new Error(`center serve did not answer: ${err}`);
  }

  async function kill9(child: ChildProcess): Promise<void> {
    const exited = new Promise((res) => child.once('exit', res));
    child.kill('SIGKILL');
    await exited;
  }

  const run = (args: string[], e: NodeJS.ProcessEnv = env) => cv(args, { env: e });
  async function ok<T = VmJson>(args: string[]): Promise<T> {
    const r = await run([...args, '--json']);
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    return r.json<T>();
  }

  before(async () => {
    s = await startTestStack();
    // Small conversion steps, so an encrypt of DISK takes long enough to be interrupted.
    const agentJson = join(s.dir, 'agent', 'agent.json');
    const cfg = JSON.parse(await readFile(agentJson, 'utf8')) as Record<string, unknown>;
    await writeFile(agentJson, JSON.stringify({ ...cfg, conversionChunkBytes: 65536 }));
    await s.restartAgent();
    // center moves to its own process; a long heartbeat, so only the operations push keys.
    centerDir = join(s.center.dir, 'center');
    port = s.center.running.port;
    const centerJson = join(centerDir, 'center.json');
    const ccfg = JSON.parse(await readFile(centerJson, 'utf8')) as Record<string, unknown>;
    await writeFile(centerJson, JSON.stringify({ ...ccfg, heartbeatSeconds: 3600 }));
    await s.center.running.close();
    center = await startCenterProcess();
    env = s.center.env;
    const login = await cv(
      ['login', `https://127.0.0.1:${port}`, '--user', 'admin', '--ca', s.center.init.ca, '--password-stdin'],
      { env, input: ADMIN_PASSWORD },
    );
    assert.equal(login.status, 0, login.stderr);
    const add = await run([
      'host',
      'add',
      'host-1',
      s.agent.url,
      '--token',
      s.agentInit.enrollmentToken,
      '--fingerprint',
      s.agentInit.fingerprint,
    ]);
    assert.equal(add.status, 0, add.stderr);
  });

  after(async () => {
    if (center && center.exitCode === null) await kill9(center);
    await s?.close();
  });

  it('encrypt-existing survives a center SIGKILL mid-way: the task resumes and completes; data intact after decrypt', async () => {
    const made = await ok(['vm', 'create', 'vm-e', '--host', 'host-1', '--disk', String(DISK), '--plain']);
    assert.equal(made.encrypted, false);
    const extent = made.disks[0]!.extentPath;
    const data = pattern(DISK, 7);
    await writeFile(extent, data);

    // Watch the agent from before the request, so a fast conversion is still caught part-way.
    let first: { done: number; total: number } | null = null;
    let watching = true;
    const watch = (async () => {
      while (watching && !first) {
        const op = (await s.agent.vms.show('vm-e')).operation;
        if (op && op.done > 0) first = op;
        else await sleep(5);
      }
    })();
    const started = await ok<TaskRecord>(['vm', 'encrypt', 'vm-e', '--no-wait']);
    assert.equal(started.kind, 'vm.encrypt');
    assert.match(started.id, /^task-[0-9a-f]{16}$/);
    const until = Date.now() + 60_000;
    while (!first && Date.now() < until) await sleep(5);
    watching = false;
    await watch;
    // The agent is part-way through the conversion: crash center.
    const at = (await s.agent.vms.show('vm-e')).operation;
    assert.ok(
      at && at.done < at.total * 0.8,
      `caught the conversion part-way (${JSON.stringify(at ?? first)})`,
    );
    await kill9(center!);
    await sleep(200);
    const mid = (await s.agent.vms.show('vm-e')).operation;
    assert.ok(mid === null || mid.done > at.done, 'the agent keeps converting without center');
    // What the dead center left in its database: the task running, its KEK recorded as a step.
    const db = await CenterStore.open({ dataDir: centerDir });
    try {
      const rows = await db.db.all('SELECT state FROM tasks WHERE id = ?', [started.id]);
      assert.equal(rows[0]?.['state'], 'running');
      const steps = await db.db.all('SELECT name FROM task_steps WHERE task_id = ? ORDER BY name', [
        started.id,
      ]);
      assert.deepEqual(
        steps.map((r) => r['name']),
        ['check', 'kek'],
      );
    } finally {
      await db.close();
    }
    center = await startCenterProcess();

    const waited = await run(['task', 'wait', started.id, '--json']);
    assert.equal(waited.status, 0, waited.stdout + waited.stderr);
    const t = waited.json<TaskRecord>();
    assert.equal(t.state, 'succeeded');
    const vm = t.result as VmJson;
    assert.equal(vm.encrypted, true);
    assert.equal(vm.policy, 'VM Encryption Policy');
    assert.equal(vm.disks[0]!.keyId, vm.keyId);
    const shown = await ok(['vm', 'show', 'vm-e']);
    assert.equal(shown.keyId, vm.keyId, 'one KEK: the resumed task reused the one it recorded');
    const raw = await readFile(extent);
    assert.equal(raw.indexOf(data.subarray(DISK / 2, DISK / 2 + 4096)), -1, 'the extent holds ciphertext');
    const tasks = await ok<TaskRecord[]>(['task', 'list', '--target', 'vm-e']);
    assert.deepEqual(
      tasks.map((x) => `${x.kind} ${x.state}`),
      ['vm.encrypt succeeded', 'vm.create succeeded'],
    );

    const plain = await ok(['vm', 'decrypt', 'vm-e']);
    assert.equal(plain.encrypted, false);
    assert.equal(plain.policy, null);
    assert.ok(
      (await readFile(extent)).equals(data),
      'the data is unchanged after encrypt (resumed) and decrypt',
    );
  });

  it('rekey shallow while on, deep when off; the rules of vSphere refuse decrypt and deep rekey while on (exit 1)', async () => {
    const vm = await ok([
      'vm',
      'create',
      'vm-r',
      '--host',
      'host-1',
      '--disk',
      '1M',
      '--policy',
      'VM Encryption Policy',
    ]);
    const on = await ok(['vm', 'power-on', 'vm-r']);
    assert.equal(on.powerState, 'poweredOn');
    assert.match(on.disks[0]!.nbdUri ?? '', /^nbd\+unix:/);
    const shallow = await ok(['vm', 'rekey', 'vm-r']);
    assert.notEqual(shallow.keyId, vm.keyId);
    assert.equal(shallow.powerState, 'poweredOn');
    for (const args of [
      ['vm', 'decrypt', 'vm-r'],
      ['vm', 'rekey', 'vm-r', '--deep'],
    ]) {
      const r = await run([...args, '--json']);
      assert.equal(r.status, 1, r.stdout);
      assert.equal(r.json<{ error: { code: string } }>().error.code, 'vm_power_state');
    }
    await ok(['vm', 'power-off', 'vm-r']);
    const deep = await ok(['vm', 'rekey', 'vm-r', '--deep']);
    assert.notEqual(deep.keyId, shallow.keyId);
    assert.equal(deep.disks[0]!.keyId, deep.keyId);
    const again = await run(['vm', 'encrypt', 'vm-r', '--json']);
    assert.equal(again.status, 1);
    assert.equal(again.json<{ error: { code: string } }>().error.code, 'vm_crypto_state');
  });

  it('a locked VM: power-on exits 5 naming the key ID; vm unlock pushes it; then it powers on', async () => {
    const vm = await ok(['vm', 'show', 'vm-r']);
    await s.restartAgent();
    assert.equal((await ok(['vm', 'show', 'vm-r'])).cryptoState, 'locked');
    const r = await run(['vm', 'power-on', 'vm-r']);
    assert.equal(r.status, 5, r.stdout + r.stderr);
    assert.ok(r.stderr.includes(vm.keyId!), `the error names key ${vm.keyId}: ${r.stderr}`);
    const unlocked = await ok(['vm', 'unlock', 'vm-r']);
    assert.equal(unlocked.cryptoState, 'unlocked');
    assert.equal((await ok(['vm', 'power-on', 'vm-r'])).powerState, 'poweredOn');
    const sus = await run(['vm', 'suspend', 'vm-r', '--json']);
    assert.equal(sus.status, 1, 'suspend needs the QEMU runtime');
    await ok(['vm', 'power-off', 'vm-r']);
  });

  it('exit codes: unknown VM, task, host or policy 3, denied 4, usage 2', async () => {
    for (const args of [
      ['vm', 'show', 'nope'],
      ['vm', 'encrypt', 'nope'],
      ['task', 'wait', 'task-0000000000000000'],
      ['vm', 'create', 'x1', '--host', 'no-host', '--disk', '1M', '--plain'],
      ['vm', 'create', 'x2', '--host', 'host-1', '--disk', '1M', '--policy', 'no such policy'],
    ]) {
      const r = await run(args);
      assert.equal(r.status, 3, `${args.join(' ')}: ${r.stderr}`);
    }
    const delNoYes = await run(['vm', 'delete', 'vm-r']);
    assert.equal(delNoYes.status, 2);
    const mk = await cv(['user', 'create', 'op2', '--role', 'Operator', '--password-stdin'], {
      env,
      input: 'operator-pass',
    });
    assert.equal(mk.status, 0, mk.stderr);
    const opEnv = { ...env, XDG_CONFIG_HOME: join(s.dir, 'op-config') };
    const login = await cv(
      ['login', `https://127.0.0.1:${port}`, '--user', 'op2', '--ca', s.center.init.ca, '--password-stdin'],
      { env: opEnv, input: 'operator-pass' },
    );
    assert.equal(login.status, 0, login.stderr);
    for (const args of [
      ['vm', 'encrypt', 'vm-e'],
      ['vm', 'rekey', 'vm-r'],
      ['vm', 'unlock', 'vm-r'],
      ['vm', 'decrypt', 'vm-r'],
    ]) {
      const r = await run(args, opEnv);
      assert.equal(r.status, 4, `${args.join(' ')}: ${r.stderr}`);
    }
    const on = await run(['vm', 'power-on', 'vm-e', '--json'], opEnv);
    assert.equal(on.status, 0, 'an Operator may power VMs on');
    assert.equal((await run(['vm', 'power-off', 'vm-e'], opEnv)).status, 0);
  });

  it('disk add and grow, import (raw, encrypted), unregister and register, delete --yes', async () => {
    const added = await ok(['vm', 'disk', 'add', 'vm-r', '--size', '2M']);
    assert.equal(added.disks.length, 2);
    assert.equal(
      added.disks[1]!.keyId,
      added.keyId,
      'a new disk of an encrypted VM is encrypted under its KEK',
    );
    const grown = await ok(['vm', 'disk', 'grow', 'vm-r', 'disk-1', '--size', '4M']);
    assert.equal(grown.disks[1]!.sizeBytes, 4 * MiB);

    const img = join(s.dir, 'import.img');
    const data = pattern(MiB, 9);
    await writeFile(img, data);
    const imp = await ok([
      'vm',
      'import',
      'vm-i',
      '--host',
      'host-1',
      '--raw',
      img,
      '--policy',
      'VM Encryption Policy',
    ]);
    assert.equal(imp.encrypted, true);
    assert.equal(imp.disks[0]!.sizeBytes, MiB);
    assert.equal((await readFile(imp.disks[0]!.extentPath)).indexOf(data.subarray(0, 4096)), -1);

    const un = await ok<{ name: string; path: string }>(['vm', 'unregister', 'vm-i']);
    assert.equal((await run(['vm', 'show', 'vm-i'])).status, 3);
    const back = await ok(['vm', 'register', un.path, '--host', 'host-1']);
    assert.equal(back.name, 'vm-i');
    assert.equal(back.keyId, imp.keyId);

    const del = await ok<{ name: string }>(['vm', 'delete', 'vm-i', '--yes']);
    assert.equal(del.name, 'vm-i');
    assert.equal((await run(['vm', 'show', 'vm-i'])).status, 3);
    const list = await ok<TaskRecord[]>(['task', 'list']);
    assert.ok(list.every((t) => t.state === 'succeeded' || t.state === 'failed'));
  });
});
