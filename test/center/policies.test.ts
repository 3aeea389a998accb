/**
 * Encryption policies end to end: our KMS (two of them, as providers kms1 and kms2), center
 * in-process over real TLS, a real agent, the `cryptvisor` CLI as a child process, and
 * cryptsetup as the independent reader of the escrow keyslot. Covers create/edit/assign,
 * compliance, the reconciler encrypting a plain powered-off VM (and reporting a powered-on one),
 * escrow keyslots that `cryptsetup open --test-passphrase` accepts, a shallow rekey when the
 * policy's provider changes, a shared-scope policy with scheduled rotation, and a scan of center's
 * database for the escrow passphrases.
 */
import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CenterClient } from '../../src/center/index.js';
import { signCsr } from '../../src/common/pki.js';
import { initKms } from '../../src/kms/init.js';
import { startKms } from '../../src/kms/server.js';
import { runAsync } from '../support/cli.js';
import { needPeers } from '../support/peers.js';
import { ADMIN_PASSWORD, cv, startTestStack, type TestStack } from './harness.js';
import { createVm, finishTask } from './ops-helpers.js';

const BUILTIN = 'VM Encryption Policy';
const GIVEN_PASSPHRASE = 'escrow passphrase given by the operator 7f3a';

interface Vm {
  name: string;
  policy: string | null;
  encrypted: boolean;
  powerState: string;
  keyProviderId: string | null;
  keyId: string | null;
  disks: { id: string; extentPath: string; keyId: string | null }[];
}
interface Compliance {
  vm: string;
  policy: string | null;
  via: string | null;
  compliant: boolean;
  reasons: string[];
}
interface Reconciled extends Compliance {
  started: string | null;
  taskId: string | null;
  skipped: string | null;
  task?: { state: string };
}
interface PolicyJson {
  name: string;
  builtin: boolean;
  keyProvider: string | null;
  keyScope: string;
  sharedKey: { keyProviderId: string; keyId: string } | null;
  escrow: { keyProviderId: string; secretId: string } | null;
  rotateDays: number | null;
}

/** A second KMS of our own as provider `name`, trusted both ways (center's CSR signed by its CA). */
async function addKmsProvider(admin: CenterClient, dir: string, name: string): Promise<() => Promise<void>> {
  const init = await initKms({ dataDir: join(dir, name), sans: ['127.0.0.1'] });
  const kms = await startKms({ dataDir: join(dir, name), host: '127.0.0.1', port: 0, logLevel: 'silent' });
  await admin.call('POST', '/api/v1/providers', {
    name,
    servers: `127.0.0.1:${kms.port}`,
    ca: await readFile(init.ca, 'utf8'),
  });
  const { csr } = await admin.call<{ csr: string }>('POST', `/api/v1/providers/${name}/csr`);
  await admin.call('PUT', `/api/v1/providers/${name}/certificate`, {
    cert: await signCsr(init.pkiDir, csr, { kind: 'client' }),
  });
  return () => kms.close();
}

describe('encryption policies, compliance and the reconciler', () => {
  let s: TestStack;
  let admin: CenterClient;
  let closeKms2: () => Promise<void>;
  let gold: PolicyJson;
  const env = (): NodeJS.ProcessEnv => s.center.env;
  const vm = (name: string): Promise<Vm> => admin.call<Vm>('GET', `/api/v1/vms/${name}`);
  const compliance = async (name: string): Promise<Compliance> => {
    const all = await admin.call<Compliance[]>('GET', '/api/v1/compliance');
    return all.find((c) => c.vm === name)!;
  };
  /** `policy reconcile` through the CLI (which waits for the tasks), or through the API. */
  const reconcile = async (via: 'cli' | 'api' = 'api'): Promise<Map<string, Reconciled>> => {
    if (via === 'cli') {
      const r = await cv(['policy', 'reconcile', '--json'], { env: env() });
      assert.equal(r.status, 0, r.stderr + r.stdout);
      return new Map(r.json<{ vms: Reconciled[] }>().vms.map((v) => [v.vm, v]));
    }
    const r = await admin.call<{ vms: Reconciled[] }>('POST', '/api/v1/policies/reconcile');
    const out = new Map<string, Reconciled>();
    for (const v of r.vms) {
      if (v.taskId) await finishTask(admin, { id: v.taskId });
      out.set(v.vm, v.taskId ? { ...v, task: { state: 'succeeded' } } : v);
    }
    return out;
  };
  const codeOf = async (p: Promise<unknown>): Promise<string> =>
    p.then(
      () => 'ok',
      (err: unknown) => (err as { code: string }).code,
    );
  /** The passphrase of an escrow Secret Data object, read from its provider through center's identity. */
  const escrowSecret = async (p: PolicyJson): Promise<Buffer> => {
    const { client } = await s.center.running.providers.client(p.escrow!.keyProviderId);
    const obj = await client.get(p.escrow!.secretId);
    return obj.material.bytes();
  };
  /** cryptsetup without blocking the event loop (center serves from this process). */
  const opensWith = async (extent: string, keyFile: string): Promise<number | null> =>
    (await runAsync('cryptsetup', ['open', '--test-passphrase', '--key-file', keyFile, extent])).status;
  const luksDump = async (extent: string): Promise<string> => (await runAsync('cryptsetup', ['luksDump', extent])).stdout.toString();

  before(async () => {
    s = await startTestStack();
    admin = s.admin;
    await admin.call('POST', '/api/v1/hosts', {
      name: 'host-1',
      url: s.agent.url,
      token: s.agentInit.enrollmentToken,
      fingerprint: s.agentInit.fingerprint,
    });
    closeKms2 = await addKmsProvider(admin, s.dir, 'kms2');
    const login = await cv(['login', s.center.running.url, '--user', 'admin', '--ca', s.center.init.ca, '--password-stdin'], {
      env: env(),
      input: `${ADMIN_PASSWORD}\n`,
    });
    assert.equal(login.status, 0, login.stderr);
  });
  after(async () => {
    await closeKms2?.();
    await s?.close();
  });

  it('the built-in policy exists and is read-only; policies are created, listed, shown, edited', async () => {
    const builtin = (await admin.call<PolicyJson[]>('GET', '/api/v1/policies')).find((p) => p.name === BUILTIN);
    assert.deepEqual(
      { builtin: builtin?.builtin, keyProvider: builtin?.keyProvider, keyScope: builtin?.keyScope, escrow: builtin?.escrow },
      { builtin: true, keyProvider: null, keyScope: 'vm', escrow: null },
    );
    assert.equal(
      await codeOf(admin.call('PUT', `/api/v1/policies/${encodeURIComponent(BUILTIN)}`, { rotateDays: 5 })),
      'policy_read_only',
    );

    const made = await cv(['policy', 'create', 'gold', '--provider', 'kms1', '--escrow', 'generate', '--json'], { env: env() });
    assert.equal(made.status, 0, made.stderr + made.stdout);
    gold = made.json<PolicyJson>();
    assert.equal(gold.keyProvider, 'kms1');
    assert.equal(gold.escrow?.keyProviderId, 'kms1');
    assert.match(gold.escrow?.secretId ?? '', /.+/);

    const given = await cv(['policy', 'create', 'silver', '--escrow-passphrase-stdin', '--rotate-days', '30', '--json'], {
      env: env(),
      input: `${GIVEN_PASSPHRASE}\n`,
    });
    assert.equal(given.status, 0, given.stderr + given.stdout);
    const silver = given.json<PolicyJson>();
    assert.equal(silver.rotateDays, 30);
    assert.deepEqual(await escrowSecret(silver), Buffer.from(GIVEN_PASSPHRASE));

    const create = (body: Record<string, unknown>): Promise<string> => codeOf(admin.call('POST', '/api/v1/policies', body));
    assert.equal(await create({ name: 'gold' }), 'policy_exists');
    assert.equal(await create({ name: 'half', encrypt: 'home' }), 'not_supported');
    assert.equal(await create({ name: 'x', keyProvider: 'nope' }), 'provider_not_found');
    assert.equal(await create({ name: 'x', escrow: 'passphrase' }), 'invalid_request');

    const edited = await admin.call<PolicyJson>('PUT', '/api/v1/policies/silver', { keyScope: 'shared', rotateDays: 0 });
    assert.deepEqual({ scope: edited.keyScope, days: edited.rotateDays }, { scope: 'shared', days: null });
    assert.equal(await codeOf(admin.call('GET', '/api/v1/policies/nope')), 'policy_not_found');

    // Managing policies is Cryptographer.ManageEncryptionPolicy: an Operator is denied and audited.
    await admin.call('POST', '/api/v1/users', { name: 'op', role: 'Operator', password: 'operator-password' });
    const op = await s.center.login('op', 'operator-password');
    await assert.rejects(op.call('POST', '/api/v1/policies', { name: 'y' }), { code: 'permission_denied' });
    await assert.rejects(op.call('POST', '/api/v1/policies/reconcile'), { code: 'permission_denied' });
  });

  it('reconcile encrypts a plain powered-off VM of an assigned folder, reports a powered-on one, then adds escrow', async () => {
    await createVm(admin, 'web1', 'host-1', { plain: true });
    await createVm(admin, 'web2', 'host-1', { plain: true });
    const grouped = await cv(['policy', 'group', 'web1', '--folder', 'prod', '--tag', 'frontend', '--json'], { env: env() });
    assert.equal(grouped.status, 0, grouped.stderr);
    assert.deepEqual(grouped.json(), { vm: 'web1', folder: 'prod', tags: ['frontend'] });
    await admin.call('PUT', '/api/v1/vm-groups/web2', { folder: 'prod' });
    const a = await cv(['policy', 'assign', 'gold', '--folder', 'prod', '--json'], { env: env() });
    assert.equal(a.status, 0, a.stderr);
    await finishTask(admin, await admin.call('POST', '/api/v1/vms/web2/power-on'));

    const before = await compliance('web1');
    assert.deepEqual(
      { policy: before.policy, via: before.via, compliant: before.compliant, reasons: before.reasons },
      { policy: 'gold', via: 'folder', compliant: false, reasons: ['not encrypted'] },
    );

    const first = await reconcile('cli');
    assert.equal(first.get('web1')?.started, 'encrypt');
    assert.equal(first.get('web1')?.task?.state, 'succeeded');
    assert.equal(first.get('web2')?.started, null);
    assert.match(first.get('web2')?.skipped ?? '', /powered off \(it is poweredOn\)/);
    const web1 = await vm('web1');
    assert.deepEqual(
      { encrypted: web1.encrypted, provider: web1.keyProviderId, policy: web1.policy },
      { encrypted: true, provider: 'kms1', policy: 'gold' },
    );
    // The encrypt task added the escrow keyslot of the policy.
    const after = await compliance('web1');
    assert.deepEqual({ compliant: after.compliant, reasons: after.reasons }, { compliant: true, reasons: [] });

    const shown = await cv(['policy', 'show', 'gold'], { env: env() });
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, /^policy gold\n/);
    assert.match(shown.stdout, /assigned: +VMs \[web1\] folders \[prod\] tags \[\]/);
    assert.match(shown.stdout, /web2 +gold +folder +no +not encrypted/);
    const g = await admin.call<{ assigned: { vms: string[]; folders: string[] }; compliance: Compliance[] }>(
      'GET',
      '/api/v1/policies/gold',
    );
    assert.deepEqual(g.assigned.folders, ['prod']);
    assert.deepEqual(g.assigned.vms, ['web1']);
    assert.deepEqual(
      g.compliance.map((c) => [c.vm, c.compliant]),
      [
        ['web1', true],
        ['web2', false],
      ],
    );
  });

  it('cryptsetup opens each disk with the escrow passphrase; no passphrase is in center\'s database', async (t) => {
    if (!needPeers(t, 'cryptsetup')) return;
    const web1 = await vm('web1');
    const key = join(s.dir, 'escrow.key');
    const secret = await escrowSecret(gold);
    await writeFile(key, secret, { mode: 0o600 });
    try {
      for (const d of web1.disks) assert.equal(await opensWith(d.extentPath, key), 0, `disk ${d.id}`);
      const dump = await luksDump(web1.disks[0]!.extentPath);
      assert.match(dump, /argon2id/);
      assert.match(dump, /cryptvisor-escrow/);
      await writeFile(key, 'not the escrow passphrase');
      assert.notEqual(await opensWith(web1.disks[0]!.extentPath, key), 0);

      // The escrow passphrases (generated and given) live at the KMS only.
      const dir = join(s.center.dir, 'center');
      const files = (await readdir(dir)).filter((f) => f.startsWith('center.db'));
      assert.ok(files.length > 0);
      const db = Buffer.concat(await Promise.all(files.map((f) => readFile(join(dir, f)))));
      for (const p of [secret, Buffer.from(GIVEN_PASSPHRASE)]) {
        for (const form of [p, Buffer.from(p.toString('base64'))]) assert.equal(db.indexOf(form), -1);
      }
    } finally {
      secret.fill(0);
    }
  });

  it('a new escrow passphrase in the policy: the reconciler replaces the keyslot', async (t) => {
    const old = gold;
    gold = await admin.call<PolicyJson>('PUT', '/api/v1/policies/gold', { escrow: 'generate' });
    assert.notEqual(gold.escrow?.secretId, old.escrow?.secretId);
    assert.match((await compliance('web1')).reasons.join(), /no escrow keyslot for the policy's passphrase/);
    const r = await reconcile();
    assert.equal(r.get('web1')?.started, 'escrow');
    assert.equal((await compliance('web1')).compliant, true);
    if (!needPeers(t, 'cryptsetup')) return;
    const extent = (await vm('web1')).disks[0]!.extentPath;
    const key = join(s.dir, 'escrow.key');
    for (const [p, opens] of [
      [gold, true],
      [old, false],
    ] as const) {
      const secret = await escrowSecret(p);
      await writeFile(key, secret, { mode: 0o600 });
      secret.fill(0);
      assert.equal(await opensWith(extent, key) === 0, opens);
    }
  });

  it('a new provider in the policy shallow-rekeys the VM to a KEK there; the escrow keyslot still opens', async (t) => {
    const old = await vm('web1');
    await admin.call('PUT', '/api/v1/policies/gold', { keyProvider: 'kms2' });
    assert.match((await compliance('web1')).reasons.join(), /KEK is at provider kms1; the policy wants kms2/);
    const r = await reconcile();
    assert.equal(r.get('web1')?.started, 'rekey');
    assert.equal(r.get('web1')?.task?.state, 'succeeded');
    const now = await vm('web1');
    assert.equal(now.keyProviderId, 'kms2');
    assert.notEqual(now.keyId, old.keyId);
    assert.deepEqual(
      now.disks.map((d) => d.keyId),
      now.disks.map(() => now.keyId),
    );
    assert.equal((await compliance('web1')).compliant, true);
    if (!needPeers(t, 'cryptsetup')) return;
    const key = join(s.dir, 'escrow.key');
    const secret = await escrowSecret(gold);
    await writeFile(key, secret, { mode: 0o600 });
    secret.fill(0);
    assert.equal(await opensWith(now.disks[0]!.extentPath, key), 0);

    // Escrow taken out of the policy: the reconciler wipes the keyslots.
    await admin.call('PUT', '/api/v1/policies/gold', { escrow: 'none' });
    assert.match((await compliance('web1')).reasons.join(), /escrow keyslots the policy does not have/);
    assert.equal((await reconcile()).get('web1')?.started, 'escrow');
    assert.equal((await compliance('web1')).compliant, true);
    assert.notEqual(await opensWith(now.disks[0]!.extentPath, key), 0);
    assert.doesNotMatch(await luksDump(now.disks[0]!.extentPath), /argon2id/);
  });

  it('a shared-scope policy puts its VMs on one KEK and rotates it on schedule', async () => {
    await admin.call('POST', '/api/v1/policies', { name: 'team', keyScope: 'shared' });
    for (const v of ['db1', 'db2']) {
      await createVm(admin, v, 'host-1', { plain: true });
      await admin.call('PUT', `/api/v1/vm-groups/${v}`, { tags: 'db,linux' });
    }
    await admin.call('POST', '/api/v1/policies/team/assign', { tag: 'db' });
    assert.equal((await compliance('db1')).via, 'tag');
    const r = await reconcile();
    assert.equal(r.get('db1')?.task?.state, 'succeeded');
    assert.equal(r.get('db2')?.task?.state, 'succeeded');
    const [db1, db2] = [await vm('db1'), await vm('db2')];
    const team = await admin.call<PolicyJson>('GET', '/api/v1/policies/team');
    assert.equal(db1.keyId, team.sharedKey?.keyId);
    assert.equal(db2.keyId, team.sharedKey?.keyId);
    assert.equal((await compliance('db1')).compliant, true);

    // Rotation: the KEK became 10 days old; the policy rotates every 7 days.
    await admin.call('PUT', '/api/v1/policies/team', { rotateDays: 7 });
    const past = new Date(Date.now() - 10 * 86_400_000).toISOString();
    await s.center.running.store.db.run(
      "UPDATE vm_key_ages SET since = ? WHERE vm IN ('db1', 'db2', 'policy:team')",
      [past],
    );
    assert.match((await compliance('db1')).reasons.join(), /10 days old; the policy rotates it every 7 days/);
    const rotated = await reconcile();
    assert.equal(rotated.get('db1')?.started, 'rekey');
    assert.equal(rotated.get('db2')?.task?.state, 'succeeded');
    const [n1, n2] = [await vm('db1'), await vm('db2')];
    assert.notEqual(n1.keyId, db1.keyId);
    assert.equal(n1.keyId, n2.keyId);
    assert.equal((await compliance('db2')).compliant, true);

    // vm create under the policy gets its shared KEK at once; an unknown policy is refused.
    await finishTask(admin, await admin.call('POST', '/api/v1/vms', { name: 'db3', host: 'host-1', disks: '1048576', policy: 'team' }));
    assert.equal((await vm('db3')).keyId, n1.keyId);
    await assert.rejects(
      admin.call('POST', '/api/v1/vms', { name: 'db4', host: 'host-1', disks: '1048576', policy: 'nope' }),
      { code: 'policy_not_found' },
    );
  });
});
