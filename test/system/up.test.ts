/**
 * `cryptvisor up` as a real process (DESIGN.md §10, issue 6): the layout, credentials.json and
 * endpoints.json, pid files, status, a kill -9 of a host (restarted, its VMs unlocked again),
 * `cryptvisor demo` against the running system, `down`, and a second run reusing the state, where
 * the KMS and center are killed and come back, and Ctrl-C (SIGINT) stops everything.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectCenter } from '../../src/center/index.js';
import { cv as runCv } from '../center/harness.js';
import { CLI } from '../support/cli.js';
import { holdPreferredKmsPort } from '../support/default-port.js';
import { alive, pidOf, waitFor } from '../support/up-processes.js';

const SERVICES = ['kms', 'center', 'host-1', 'host-2'];

interface Up {
  readonly child: ChildProcess;
  out(): string;
  readonly exited: Promise<number | null>;
}

function startUp(data: string, env: NodeJS.ProcessEnv): Up {
  const child = spawn(process.execPath, [CLI, 'up', '--data', data, '--hosts', '2'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  return { child, out: () => out, exited: new Promise((r) => child.once('exit', (code) => r(code))) };
}

test(
  'cryptvisor up: layout, restart of a killed host, demo, down, a second run (KMS and center killed), Ctrl-C',
  { timeout: 600_000 },
  async (t) => {
    await holdPreferredKmsPort(t);
    const data = mkdtempSync(join(tmpdir(), 'cv-up-'));
    const env: NodeJS.ProcessEnv = {
      PATH: process.env['PATH'],
      HOME: join(data, 'home'),
      XDG_CONFIG_HOME: join(data, 'config'),
    };
    let up = startUp(data, env);
    t.after(async () => {
      // Never leave a process behind, whatever failed.
      for (const name of [...SERVICES, 'up']) {
        const pid = pidOf(data, name);
        if (alive(pid)) process.kill(pid as number, 'SIGKILL');
      }
      if (up.child.exitCode === null) up.child.kill('SIGKILL');
      rmSync(data, { recursive: true, force: true });
    });
    await waitFor(() => /^ready$/m.test(up.out()), 300_000, `ready (output so far:\n${up.out()})`);
    const cv = (args: string[]) => runCv([...args, '--data', data], { env });

    // Layout (DESIGN §10).
    for (const f of [
      'kms/pki/ca.pem',
      'kms/pki/admin.pem',
      'kms/pki/admin.key',
      'center',
      'hosts/host-1',
      'hosts/host-2',
      'datastore',
    ]) {
      assert.ok(existsSync(join(data, f)), `${f} exists`);
    }
    const credFile = join(data, 'credentials.json');
    assert.equal(statSync(credFile).mode & 0o777, 0o600);
    const creds = JSON.parse(readFileSync(credFile, 'utf8')) as Record<string, string>;
    assert.deepEqual(Object.keys(creds).sort(), ['ca', 'password', 'url', 'user']);
    assert.ok(existsSync(creds['ca'] as string));
    assert.match(
      up.out(),
      new RegExp(`password:\\s+${creds['password']}`),
      'the first run prints the password',
    );
    const endpoints = JSON.parse(readFileSync(join(data, 'run', 'endpoints.json'), 'utf8')) as {
      kms: { kmip: string; https: string };
      center: string;
      hosts: Record<string, { api: string }>;
    };
    assert.deepEqual(Object.keys(endpoints).sort(), ['center', 'hosts', 'kms']);
    assert.deepEqual(Object.keys(endpoints.kms).sort(), ['https', 'kmip']);
    assert.match(endpoints.kms.kmip, /^127\.0\.0\.1:\d+$/);
    assert.equal(endpoints.kms.https, `https://${endpoints.kms.kmip}`);
    assert.equal(endpoints.center, creds['url']);
    assert.match(endpoints.center, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(Object.keys(endpoints.hosts).sort(), ['host-1', 'host-2']);
    for (const h of Object.values(endpoints.hosts)) {
      assert.deepEqual(Object.keys(h), ['api']);
      assert.match(h.api, /^https:\/\/127\.0\.0\.1:\d+$/);
    }
    assert.equal(pidOf(data, 'up'), up.child.pid);
    for (const s of SERVICES) assert.ok(alive(pidOf(data, s)), `${s} is running`);

    // status, and center reached through --data alone (no login).
    const status = await cv(['status', '--json']);
    assert.equal(status.status, 0, status.stderr);
    const st = JSON.parse(status.stdout) as {
      up: boolean;
      ready: boolean;
      services: { name: string; pid: number; alive: boolean; accepting: boolean }[];
    };
    assert.equal(st.up, true);
    assert.equal(st.ready, true);
    assert.deepEqual(
      st.services.map((s) => s.name),
      SERVICES,
    );
    for (const s of st.services)
      assert.ok(s.alive && s.accepting && s.pid === pidOf(data, s.name), `${s.name} alive and accepting`);
    const hosts = await cv(['host', 'list', '--json']);
    assert.equal(hosts.status, 0, hosts.stderr);
    assert.deepEqual((JSON.parse(hosts.stdout) as { name: string }[]).map((h) => h.name).sort(), [
      'host-1',
      'host-2',
    ]);
    const list = await cv(['vm', 'list', '--json']);
    assert.equal(list.status, 0, list.stderr);
    const vms = JSON.parse(list.stdout) as {
      name: string;
      host: string;
      encrypted: boolean;
      cryptoState: string;
    }[];
    assert.deepEqual(vms.map((v) => v.name).sort(), ['example-1', 'example-2', 'example-3']);
    assert.equal(vms.filter((v) => v.encrypted).length, 2);

    // kill -9 of host-1: restarted about a second later; its encrypted VM unlocks again.
    const old = pidOf(data, 'host-1') as number;
    process.kill(old, 'SIGKILL');
    await waitFor(
      () => {
        const p = pidOf(data, 'host-1');
        return p !== undefined && p !== old && alive(p);
      },
      20_000,
      'host-1 restarted',
    );
    const center = await connectCenter({}, data);
    await waitFor(
      async () => {
        const vm = await center
          .call<{ cryptoState: string }>('GET', '/api/v1/vms/example-1')
          .catch(() => undefined);
        return vm?.cryptoState === 'unlocked';
      },
      30_000,
      'example-1 unlocked after the restart',
    );
    assert.match(up.out(), /\[up\] host-1 \(pid \d+\) exited \(SIGKILL\); restarting in 1 s/);
    assert.match(up.out(), /^\[center\] .*/m, 'the merged log tags center lines');

    // cryptvisor demo against the running system.
    const demo = await cv(['demo']);
    assert.equal(demo.status, 0, `demo failed:\n${demo.stdout}\n${demo.stderr}`);
    for (let n = 1; n <= 8; n++) assert.match(demo.stdout, new RegExp(`^${n}\\. `, 'm'), `step ${n} printed`);
    assert.doesNotMatch(demo.stdout, /FAIL/);
    assert.match(demo.stdout, /all eight steps hold/);
    const after = JSON.parse((await cv(['vm', 'list', '--json'])).stdout) as { name: string }[];
    assert.ok(!after.some((v) => v.name.startsWith('demo-')), 'the demo removed its VM');

    // down: everything stops, nothing is left.
    const pids = SERVICES.map((s) => pidOf(data, s));
    const down = await cv(['down']);
    assert.equal(down.status, 0, down.stderr);
    assert.equal(await up.exited, 0);
    for (const p of pids) assert.ok(!alive(p), `pid ${p} stopped`);
    assert.ok(!existsSync(join(data, 'run', 'endpoints.json')));
    assert.ok(!existsSync(join(data, 'run', 'up.pid')));

    // A second run reuses every piece of state (ports, credentials, VMs); SIGINT stops it cleanly.
    up = startUp(data, env);
    await waitFor(() => /^ready$/m.test(up.out()), 180_000, `ready again (output:\n${up.out()})`);
    assert.doesNotMatch(up.out(), /initializing|password:/);
    assert.deepEqual(JSON.parse(readFileSync(join(data, 'run', 'endpoints.json'), 'utf8')), endpoints);
    const again = await cv(['vm', 'list', '--json']);
    assert.equal((JSON.parse(again.stdout) as unknown[]).length, 3);
    // kill -9 of the KMS and of center: both come back on their ports, and center works again.
    const killed = ['kms', 'center'].map((s) => [s, pidOf(data, s) as number] as const);
    for (const [, pid] of killed) process.kill(pid, 'SIGKILL');
    for (const [s, pid] of killed) {
      await waitFor(
        () => {
          const p = pidOf(data, s);
          return p !== undefined && p !== pid && alive(p);
        },
        20_000,
        `${s} restarted`,
      );
    }
    await waitFor(
      async () => (await cv(['vm', 'list', '--json'])).status === 0,
      30_000,
      'center answers again',
    );
    const pids2 = SERVICES.map((s) => pidOf(data, s));
    up.child.kill('SIGINT');
    assert.equal(await up.exited, 0);
    for (const p of pids2) assert.ok(!alive(p), `pid ${p} stopped after SIGINT`);
  },
);
