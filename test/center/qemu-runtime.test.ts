/**
 * The QEMU runtime through center, driven by the real `cryptvisor` CLI against our KMS, a center
 * and an agent over real TLS: `vm create --qemu` with the tiny guest of scripts/build-guest.sh
 * (Debian's kernel, busybox initramfs; TCG without /dev/kvm), power-on, the guest writes a marker
 * to /dev/vda; snapshot while running and suspend, both sealed under the home DEK (no marker, no
 * guest text in them); resume continues the same guest; power-off; the extent holds only
 * ciphertext; after an agent restart and `vm unlock` the guest boots again and finds the marker.
 * Also: the runtime flags are checked by center, and a revert fails with not_supported.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { VmJson } from '../../src/center/index.js';
import { SEALED_MAGIC } from '../../src/crypto/index.js';
import { runAsync } from '../support/cli.js';
import { havePeer, needPeers } from '../support/peers.js';
import { ADMIN_PASSWORD, cv, startTestStack, type TestStack } from './harness.js';
import { enrollHost } from './ops-helpers.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const GUEST = join(REPO, 'test', '.guest');
const POLICY = 'VM Encryption Policy';

describe('the QEMU runtime through center (CLI, real KMS + center + agent, a real guest)', () => {
  let s: TestStack | undefined;
  let env: NodeJS.ProcessEnv;
  // A marker only this run knows: the guest gets it on its kernel command line and writes it.
  const msg = `cvq${randomBytes(12).toString('hex')}`;
  let vmDir = '';
  let extentPath = '';

  const run = (args: string[]) => cv(args, { env });
  async function ok<T = VmJson>(args: string[]): Promise<T> {
    const r = await run([...args, '--json']);
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    return r.json<T>();
  }

  /** Polls the VM's console log until `pattern` matches (the guest is slow under TCG). */
  async function waitConsole(pattern: RegExp, timeoutMs = 90_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = await readFile(join(vmDir, 'console.log'), 'latin1').catch(() => '');
      if (pattern.test(text)) return text;
      if (Date.now() > deadline) assert.fail(`console never matched ${pattern}; last: ${text.slice(-400)}`);
      await sleep(200);
    }
  }

  async function lastTick(): Promise<number> {
    const text = await readFile(join(vmDir, 'console.log'), 'latin1');
    return Math.max(0, ...[...text.matchAll(/CV-TICK (\d+)/g)].map((m) => Number(m[1])));
  }

  /** A state file is sealed and holds none of what the guest's memory holds in clear. */
  async function assertSealed(file: string): Promise<void> {
    const state = await readFile(join(vmDir, file));
    assert.ok(state.subarray(0, SEALED_MAGIC.length).equals(SEALED_MAGIC), `${file} is sealed`);
    assert.ok(state.length > 64 * 1024, `${file} holds the guest memory`);
    for (const needle of [msg, 'CV-TICK', 'hello.txt', 'Linux version'])
      assert.equal(state.indexOf(needle), -1, `${file} holds "${needle}" in clear`);
  }

  before(async () => {
    if (!havePeer('qemu-system-x86_64')) return;
    if (!existsSync(join(GUEST, 'initrd.img'))) {
      const built = await runAsync('bash', [join(REPO, 'scripts', 'build-guest.sh'), GUEST]);
      assert.equal(built.status, 0, built.stderr);
    }
    s = await startTestStack();
    env = s.center.env;
    const login = await cv(
      ['login', s.center.running.url, '--user', 'admin', '--ca', s.center.init.ca, '--password-stdin'],
      { env, input: ADMIN_PASSWORD },
    );
    assert.equal(login.status, 0, login.stderr);
    await enrollHost(s);
  });

  after(async () => {
    // Powers the guest off if a step failed half-way (the agent stops QEMU), then everything.
    if (s) await run(['vm', 'power-off', 'g1']).catch(() => undefined);
    await s?.close();
  });

  it('center checks the runtime flags before any task starts', async (t) => {
    if (!needPeers(t, 'qemu-system-x86_64') || !s) return;
    const base = ['vm', 'create', 'bad', '--host', 'host-1', '--disk', '4M', '--plain', '--json'];
    const cases: [string[], RegExp][] = [
      [['--kernel', '/boot/vmlinuz'], /\("kernel"\) need "qemu": true/],
      [['--qemu'], /needs "kernel"/],
      [['--qemu', '--kernel', 'relative/vmlinuz'], /"kernel" has characters/],
      [['--qemu', '--kernel', '/a,b'], /"kernel" has characters/],
      [['--qemu', '--kernel', '/k', '--cpus', '999'], /"cpus" must be between/],
    ];
    for (const [flags, message] of cases) {
      const r = await run([...base, ...flags]);
      assert.equal(r.status, 1, `${flags.join(' ')}: ${r.stdout}${r.stderr}`);
      const { error } = r.json<{ error: { code: string; message: string } }>();
      assert.equal(error.code, 'invalid_request');
      assert.match(error.message, message);
    }
    const usage = await run([...base, '--qemu', '--kernel', '/k', '--memory', 'lots']);
    assert.equal(usage.status, 2);
    assert.match(usage.stdout + usage.stderr, /--memory must be a positive whole number/);
    const list = await ok<VmJson[]>(['vm', 'list']);
    assert.ok(!list.some((v) => v.name === 'bad'), 'no VM was made');
  });

  it('power-on, the guest writes; snapshot and suspend are sealed; resume continues; after an agent restart and unlock the marker is there', async (t) => {
    if (!needPeers(t, 'qemu-system-x86_64') || !s) return;
    const made = await ok([
      'vm',
      'create',
      'g1',
      '--host',
      'host-1',
      '--disk',
      '4M',
      '--policy',
      POLICY,
      '--qemu',
      '--kernel',
      join(GUEST, 'vmlinuz'),
      '--initrd',
      join(GUEST, 'initrd.img'),
      '--append',
      `console=ttyS0 quiet panic=-1 cv.msg=${msg} cv.stay=1`,
      '--memory',
      '96',
      '--cpus',
      '1',
    ]);
    assert.equal(made.encrypted, true);
    extentPath = made.disks[0]!.extentPath;
    vmDir = dirname(extentPath);

    assert.equal((await ok(['vm', 'power-on', 'g1'])).powerState, 'poweredOn');
    await waitConsole(/CV-WROTE[\s\S]*CV-TICK 2\b/);

    // Snapshot: the guest keeps running; the state is sealed under the home DEK.
    assert.equal((await ok(['vm', 'snapshot', 'g1'])).powerState, 'poweredOn');
    const snaps = (await readdir(vmDir)).filter((f) => /^snapshot-.*\.cvss$/.test(f));
    assert.equal(snaps.length, 1, `one snapshot file: ${snaps.join(', ')}`);
    await assertSealed(snaps[0]!);
    await waitConsole(new RegExp(`CV-TICK ${(await lastTick()) + 1}\\b`));
    const revert = await run(['vm', 'revert', 'g1', 'any', '--json']);
    assert.equal(revert.status, 1, revert.stdout + revert.stderr);
    assert.match(revert.stdout + revert.stderr, /not_supported/);

    // Suspend: QEMU stops, its memory and device state sealed on the datastore.
    assert.equal((await ok(['vm', 'suspend', 'g1'])).powerState, 'suspended');
    await assertSealed('suspend.cvss');
    const ticks = await lastTick();
    assert.equal((await ok(['vm', 'resume', 'g1'])).powerState, 'poweredOn');
    const text = await waitConsole(new RegExp(`CV-TICK ${ticks + 2}\\b`));
    assert.equal(
      [...text.matchAll(/CV-(WROTE|FOUND)/g)].length,
      1,
      'the same guest continued (no second boot)',
    );
    assert.ok(!(await readdir(vmDir)).includes('suspend.cvss'), 'the suspend state is removed after resume');
    const notSuspended = await run(['vm', 'resume', 'g1', '--json']);
    assert.equal(notSuspended.status, 1, 'resume needs a suspended VM');

    assert.equal((await ok(['vm', 'power-off', 'g1'])).powerState, 'poweredOff');
    const extent = await readFile(extentPath);
    assert.equal(extent.subarray(0, 6).toString('latin1'), 'LUKS\xba\xbe', 'the extent is a LUKS2 volume');
    for (const needle of [msg, 'hello.txt', 'ustar'])
      assert.equal(extent.indexOf(needle), -1, `the extent holds "${needle}" in clear`);

    // The agent restarts holding no keys; center pushes them (vm unlock); the guest finds its file.
    await s.restartAgent();
    assert.equal((await ok(['vm', 'unlock', 'g1'])).cryptoState, 'unlocked');
    assert.equal((await ok(['vm', 'power-on', 'g1'])).powerState, 'poweredOn');
    const again = await waitConsole(/CV-FOUND[\s\S]*CV-TICK 1\b/);
    assert.match(again, new RegExp(`CV-FOUND:${msg}`));
    assert.equal((await ok(['vm', 'power-off', 'g1'])).powerState, 'poweredOff');
  });
});
