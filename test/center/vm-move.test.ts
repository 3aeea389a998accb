/**
 * Migrate, clone and crypto-shred through center (docs/center.md, "Migrate, clone, shred"): our
 * KMS, center in-process, two real agents on one shared datastore, the real `cryptvisor` CLI.
 * Data is written and read through the VMs' NBD exports with nbdcopy; escrow keyslots are checked
 * with cryptsetup; the destroyed KEK is asked for with the KMS administrator's identity.
 */
import assert from 'node:assert/strict';
import { open, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { initAgent, startAgent, type RunningAgent } from '../../src/agent/index.js';
import { startCenter, type RunningCenter, type TaskRecord, type VmJson } from '../../src/center/index.js';
import { SecretBytes, withSecret } from '../../src/crypto/index.js';
import { readImageHeader, unwrapDiskKey } from '../../src/disk/index.js';
import { KmipClient } from '../../src/kmip/client.js';
import { addPassphraseKeyslot, readLuks2Header } from '../../src/luks/index.js';
import { prng, runAsync } from '../support/cli.js';
import { needPeers } from '../support/peers.js';
import { ADMIN_PASSWORD, cv, startTestStack, type CvResult, type TestStack } from './harness.js';

const DATA_OFFSET = 16 * 1024 * 1024;
const DISK = 1024 * 1024;
const POLICY = 'VM Encryption Policy';
const ESCROW = 'escrow passphrase for the shred test';

function pattern(seed: number): Buffer {
  const r = prng(seed);
  const b = Buffer.alloc(DISK);
  for (let i = 0; i < b.length; i += 4) b.writeUInt32LE(Math.floor(r() * 2 ** 32), i);
  return b;
}

async function payload(extent: string): Promise<Buffer> {
  return (await readFile(extent)).subarray(DATA_OFFSET);
}

describe('migrate, clone and shred through center with two agents on a shared datastore', () => {
  let s: TestStack;
  let agent2: RunningAgent;
  let admin: KmipClient;
  let kmsAt: string;
  /** center after the restart test (the stack's own close() closes the first one). */
  let restarted: RunningCenter | undefined;
  const data = pattern(7);
  let run: (...args: string[]) => Promise<CvResult>;
  const vm = (name: string): Promise<VmJson> => s.admin.call<VmJson>('GET', `/api/v1/vms/${name}`);
  /** Setup steps go through the API (a CLI process costs seconds on a loaded machine). */
  const api = async (action: string, name: string, body?: unknown): Promise<VmJson> => {
    const path = action === 'create' ? '/api/v1/vms' : `/api/v1/vms/${name}/${action}`;
    let t = await s.admin.call<TaskRecord>('POST', path, body ?? {});
    while (t.state === 'queued' || t.state === 'running')
      t = await s.admin.call<TaskRecord>('GET', `/api/v1/tasks/${t.id}/wait?timeout=30`);
    assert.equal(t.state, 'succeeded', `${action} ${name}: ${JSON.stringify(t.error)}`);
    return t.result as VmJson;
  };
  /** The operations under test go through the real CLI. */
  const ok = async (...args: string[]): Promise<VmJson> => {
    const r = await run(...args, '--json');
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}${r.stdout}`);
    return r.json<VmJson>();
  };
  const readDisk = async (name: string): Promise<Buffer> => {
    const v = await api('power-on', name);
    const r = await runAsync('nbdcopy', [v.disks[0]!.nbdUri!, '-']);
    assert.equal(r.status, 0, r.stderr);
    await api('power-off', name);
    return r.stdout;
  };

  before(async () => {
    s = await startTestStack();
    const datastore = join(s.dir, 'datastore');
    const init2 = await initAgent(join(s.dir, 'agent2'), datastore, { sans: ['127.0.0.1'] });
    agent2 = await startAgent({ dataDir: join(s.dir, 'agent2'), host: '127.0.0.1', port: 0 });
    for (const [name, a, init] of [
      ['host-1', s.agent, s.agentInit],
      ['host-2', agent2, init2],
    ] as const) {
      await s.admin.call('POST', '/api/v1/hosts', {
        name,
        url: a.url,
        token: init.enrollmentToken,
        fingerprint: init.fingerprint,
      });
    }
    const c = s.center;
    run = (...args: string[]) => cv(args, { env: c.env });
    const login = await cv(
      ['login', c.running.url, '--user', 'admin', '--ca', c.init.ca, '--password-stdin'],
      {
        env: c.env,
        input: ADMIN_PASSWORD,
      },
    );
    assert.equal(login.status, 0, login.stderr);
    const provider = await c.running.store.getProvider('kms1');
    const kmsPki = join(s.dir, 'kms', 'pki');
    const [ca, cert, key] = await Promise.all(
      ['ca.pem', 'admin.pem', 'admin.key'].map((f) => readFile(join(kmsPki, f), 'utf8')),
    );
    admin = new KmipClient({ servers: provider.servers, ca: ca!, cert: cert!, key: key!, timeoutMs: 10_000 });
    kmsAt = provider.servers.map((x) => `${x.host}:${x.port}`).join(',');
  });
  after(async () => {
    await restarted?.close();
    admin?.close();
    await agent2?.close();
    await s?.close();
  });

  it('migrates a powered-on encrypted VM: keys go to the target, the source drops them, ciphertext unchanged', async (t) => {
    if (!needPeers(t, 'nbdcopy')) return;
    await api('create', 'm1', { name: 'm1', host: 'host-1', disks: String(DISK), policy: POLICY });
    const on = await api('power-on', 'm1');
    const w = await runAsync('nbdcopy', ['-', on.disks[0]!.nbdUri!], data);
    assert.equal(w.status, 0, w.stderr);
    await api('power-off', 'm1');
    const extent = on.disks[0]!.extentPath;
    const before = await readFile(extent);
    await api('power-on', 'm1');
    const ref = { keyProviderId: on.keyProviderId!, keyId: on.keyId! };
    assert.ok(s.agent.keys.has(ref) && !agent2.keys.has(ref));

    const moved = await ok('vm', 'migrate', 'm1', '--to', 'host-2');
    assert.equal(moved.host, 'host-2');
    assert.equal(moved.powerState, 'poweredOn', 'a VM that was on is on again at the target');
    assert.equal(moved.keyId, on.keyId);
    assert.ok(agent2.keys.has(ref), 'the target holds the KEK');
    assert.ok(!s.agent.keys.has(ref), 'the source dropped the KEK (no other VM there needs it)');
    const r = await runAsync('nbdcopy', [moved.disks[0]!.nbdUri!, '-']);
    assert.ok(r.stdout.equals(data), 'the data reads back at the target');
    await api('power-off', 'm1');
    assert.ok(
      (await readFile(extent)).equals(before),
      'the extent is byte-identical: data stayed ciphertext',
    );
    assert.equal((await vm('m1')).host, 'host-2');

    const same = await run('vm', 'migrate', 'm1', '--to', 'host-2', '--json');
    assert.equal(same.status, 1, same.stdout);
    const nowhere = await run('vm', 'migrate', 'm1', '--to', 'host-9', '--json');
    assert.equal(nowhere.status, 3, nowhere.stdout);
  });

  it('moves and clones a plain VM (no keys); --no-wait prints a task ID for task wait; an Operator is denied', async () => {
    await api('create', 'p1', { name: 'p1', host: 'host-1', disks: String(DISK) });
    const started = await run('vm', 'migrate', 'p1', '--to', 'host-2', '--no-wait');
    assert.equal(started.status, 0, started.stderr);
    const id = started.stdout.trim();
    assert.match(id, /^task-[0-9a-f]+$/);
    const waited = await run('task', 'wait', id, '--json');
    assert.equal(waited.status, 0, waited.stderr);
    assert.equal(waited.json<TaskRecord>().state, 'succeeded');
    assert.equal((await vm('p1')).host, 'host-2');
    const copy = await api('clone', 'p1', { name: 'p1-copy' });
    assert.equal(copy.encrypted, false);
    assert.equal(copy.keyId, null);
    assert.equal(copy.host, 'host-2');

    await s.admin.call('POST', '/api/v1/users', {
      name: 'op',
      role: 'Operator',
      password: 'operator-password',
    });
    const op = await s.center.login('op', 'operator-password');
    for (const [action, body] of [
      ['migrate', { to: 'host-1' }],
      ['clone', { name: 'p2' }],
      ['shred', {}],
    ] as const) {
      await assert.rejects(op.call('POST', `/api/v1/vms/p1/${action}`, body), { code: 'permission_denied' });
    }
  });

  it('clones with its own KEK (shallow: same ciphertext) and with --new-keys (re-encrypted)', async (t) => {
    if (!needPeers(t, 'nbdcopy')) return;
    const src = await vm('m1');
    const c1 = await ok('vm', 'clone', 'm1', 'c1');
    assert.equal(c1.host, 'host-2');
    assert.ok(c1.encrypted && c1.keyId && c1.keyId !== src.keyId, 'the clone has its own KEK');
    assert.notEqual(c1.uuid, src.uuid);
    assert.equal(c1.disks[0]!.keyId, c1.keyId);
    assert.ok(
      (await payload(c1.disks[0]!.extentPath)).equals(await payload(src.disks[0]!.extentPath)),
      'shallow: same DEK, same ciphertext',
    );

    const c2 = await ok('vm', 'clone', 'm1', 'c2', '--new-keys');
    assert.ok(c2.keyId && c2.keyId !== src.keyId && c2.keyId !== c1.keyId);
    const p2 = await payload(c2.disks[0]!.extentPath);
    assert.ok(
      !p2.subarray(0, DISK).equals((await payload(src.disks[0]!.extentPath)).subarray(0, DISK)),
      'new DEKs: the ciphertext differs',
    );

    assert.ok((await readDisk('c1')).equals(data), 'the shallow clone reads the same data');
    assert.ok((await readDisk('c2')).equals(data), 'the re-encrypted clone reads the same data');
    assert.ok((await readDisk('m1')).equals(data), 'the source is unchanged');

    await api('power-on', 'm1');
    const busy = await run('vm', 'clone', 'm1', 'c3', '--json');
    assert.equal(busy.status, 1, busy.stdout);
    assert.match(busy.stdout + busy.stderr, /powered off/);
    await api('power-off', 'm1');
    const dup = await run('vm', 'clone', 'm1', 'c1', '--json');
    assert.notEqual(dup.status, 0);
  });

  it('crypto-shred: refused for a shared KEK, then proven — no key anywhere, no keyslot, ciphertext unchanged', async (t) => {
    if (!needPeers(t, 'nbdcopy', 'cryptsetup')) return;
    const c1 = await vm('c1');
    const ref = { keyProviderId: c1.keyProviderId!, keyId: c1.keyId! };
    // A second VM under the same KEK, as a shared-key policy makes it (made through the agent API).
    const h2 = await s.center.running.store.getHost('host-2');
    await s.center.running.hosts.call(h2, 'POST', '/api/v1/vms', {
      name: 's1',
      disks: [DISK],
      encryption: ref,
    });
    await s.center.running.store.addVm('s1', 'host-2', POLICY);

    // An escrow keyslot on c1's disk, opened by cryptsetup before the shred.
    const extent = c1.disks[0]!.extentPath;
    const kek = (await admin.get(ref.keyId)).material;
    const header = await readImageHeader(extent);
    await withSecret(kek, (k) =>
      withSecret(unwrapDiskKey(header, k, { vmUuid: c1.uuid, diskId: 'disk-0' }), async (dek) => {
        const fh = await open(extent, 'r+');
        try {
          await addPassphraseKeyslot(
            fh,
            await readLuks2Header(fh),
            dek,
            SecretBytes.from(Buffer.from(ESCROW)),
            { iterations: 1000 },
          );
        } finally {
          await fh.close();
        }
      }),
    );
    const pass = join(s.dir, 'escrow.pass');
    await writeFile(pass, ESCROW, { mode: 0o600 });
    const opened = await runAsync('cryptsetup', ['open', '--test-passphrase', '--key-file', pass, extent]);
    assert.equal(opened.status, 0, opened.stderr);
    const ciphertext = await payload(extent);

    const unconfirmed = await run('vm', 'shred', 'c1', '--json');
    assert.equal(unconfirmed.status, 2, 'shred needs --yes');
    const shared = await run('vm', 'shred', 'c1', '--yes', '--json');
    assert.equal(shared.status, 1, shared.stdout);
    assert.match(shared.stdout + shared.stderr, /s1/, 'the refusal names the sharer');
    (await admin.get(ref.keyId)).material.dispose(); // the refused shred left the key alone

    await api('power-on', 'c1');
    const shredded = await ok('vm', 'shred', 'c1', '--yes', '--all-sharing');
    assert.equal(shredded.powerState, 'poweredOff', 'shred powers the VM off');
    assert.equal(shredded.cryptoState, 'locked');
    assert.equal((await vm('s1')).cryptoState, 'locked', 'the sharer is shredded too');

    const on = await run('vm', 'power-on', 'c1', '--json');
    assert.equal(on.status, 5, `power-on after shred: key unavailable (${on.stdout})`);
    assert.match(on.stdout + on.stderr, new RegExp(ref.keyId));
    assert.ok(!s.agent.keys.has(ref) && !agent2.keys.has(ref), 'no agent holds the KEK');
    await assert.rejects(admin.get(ref.keyId), 'the KMS administrator cannot Get the destroyed key');
    assert.ok((await payload(extent)).equals(ciphertext), 'the payload is byte-identical ciphertext');
    const dump = await runAsync('cryptsetup', ['luksDump', extent]);
    assert.equal(dump.status, 0, dump.stderr);
    const keyslots = /Keyslots:\n([\s\S]*?)\nTokens:/.exec(dump.stdout.toString())?.[1] ?? 'missing';
    assert.doesNotMatch(keyslots, /\d+: luks2/, 'no keyslot remains');
    const escrow = await runAsync('cryptsetup', ['open', '--test-passphrase', '--key-file', pass, extent]);
    assert.notEqual(escrow.status, 0, 'the escrow passphrase no longer opens the volume');
    const kmsPki = join(s.dir, 'kms', 'pki');
    const keyOut = join(s.dir, 'recovered.key');
    const recover = await run(
      'disk',
      'recover',
      extent,
      '--kms',
      kmsAt,
      '--ca',
      join(kmsPki, 'ca.pem'),
      '--cert',
      join(kmsPki, 'admin.pem'),
      '--key',
      join(kmsPki, 'admin.key'),
      '--volume-key-file',
      keyOut,
      '--json',
    );
    assert.equal(
      recover.status,
      5,
      `disk recover after shred: key unavailable (${recover.stdout}${recover.stderr})`,
    );
    await assert.rejects(readFile(keyOut), 'no volume key file was written');
    // A shredded VM is deleted like any other: its folder goes, center forgets it.
    const s1 = await vm('s1');
    let del = await s.admin.call<TaskRecord>('DELETE', '/api/v1/vms/s1');
    while (del.state === 'queued' || del.state === 'running')
      del = await s.admin.call<TaskRecord>('GET', `/api/v1/tasks/${del.id}/wait?timeout=30`);
    assert.equal(del.state, 'succeeded', JSON.stringify(del.error));
    await assert.rejects(stat(s1.disks[0]!.extentPath), 'the shredded VM folder is gone');
    await assert.rejects(vm('s1'), { code: 'vm_not_found' });
    const other = await vm('c2');
    assert.equal(other.cryptoState, 'unlocked', 'a VM under another KEK is untouched');
  });

  it('a clone --new-keys task cut by a center restart resumes and completes with one KEK', async (t) => {
    if (!needPeers(t, 'nbdcopy')) return;
    const started = await s.admin.call<TaskRecord>('POST', '/api/v1/vms/m1/clone', {
      name: 'r1',
      newKeys: true,
    });
    const port = s.center.running.port;
    await s.center.running.close();
    restarted = await startCenter({ dataDir: join(s.center.dir, 'center'), host: '127.0.0.1', port });
    Object.assign(s.center, { running: restarted });
    let task = await s.admin.call<TaskRecord>('GET', `/api/v1/tasks/${started.id}`);
    t.diagnostic(`task ${task.state} after the restart, steps done: ${task.progress.message ?? 'none'}`);
    while (task.state === 'queued' || task.state === 'running')
      task = await s.admin.call<TaskRecord>('GET', `/api/v1/tasks/${task.id}/wait?timeout=30`);
    assert.equal(task.state, 'succeeded', JSON.stringify(task.error));
    const r1 = task.result as VmJson;
    assert.deepEqual(
      await admin.locate({ name: 'kek-r1' }),
      [r1.keyId],
      'exactly one KEK was made for the clone',
    );
    assert.ok((await readDisk('r1')).equals(data), 'the resumed clone reads the same data');
  });
});
