/**
 * Sealed dumps of a real `cryptvisor agent serve` process: core dumps off (RLIMIT_CORE 0), no dump
 * without the host key, an on-demand dump over the agent API sealed under the host key (a KEK from
 * the project's KMS), `dump decrypt` with the key file, re-sealing to a password, and a dump
 * written by the crash handler of a process that dies of an uncaught exception.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initAgent } from '../../src/agent/index.js';
import type { SecretBytes } from '../../src/crypto/index.js';
import { startTestKms, type TestKms } from '../support/kms.js';
import { agentCall, centerTls, spawnAgent, type ClientTls, type Json } from '../support/agent-api.js';
import { cli } from '../support/cli.js';

let kms: TestKms;
let root: string;
let agentDir: string;
let center: ClientTls;
let agent: ChildProcess;
let port = 0;
let hostKey: { keyId: string; key: SecretBytes };
let hostKeyFile: string;

const call = (method: string, path: string, body?: unknown) => agentCall(port, center, method, path, body);

before(async () => {
  kms = await startTestKms();
  root = await mkdtemp(join(tmpdir(), 'cv-dump-'));
  agentDir = join(root, 'host');
  const init = await initAgent(agentDir, join(root, 'ds'));
  center = await centerTls(root, agentDir);

  ({ proc: agent, port } = await spawnAgent(agentDir));
  assert.equal((await call('POST', '/api/v1/enroll', { token: init.enrollmentToken })).status, 200);
  hostKey = await kms.newKek();
  hostKeyFile = join(root, 'host.key');
  await writeFile(
    hostKeyFile,
    hostKey.key.use((b) => Buffer.from(b)),
    { mode: 0o600 },
  );
});

after(async () => {
  agent?.kill('SIGTERM');
  await kms?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

test('the agent process has core dumps off', async () => {
  const limits = await readFile(`/proc/${agent.pid}/limits`, 'utf8');
  assert.match(limits, /^Max core file size\s+0\s+0\s+bytes/m);
});

test('no dump without the host key; with it, a sealed dump that dump decrypt opens', async () => {
  const none = await call('POST', '/api/v1/dump');
  assert.equal(none.status, 423);
  assert.equal(none.json.error.code, 'host_key_missing');
  assert.deepEqual(await readdir(join(agentDir, 'dumps')).catch(() => []), []);

  const pushed = await call('PUT', '/api/v1/host-key', {
    keyProviderId: 'local',
    keyId: hostKey.keyId,
    key: hostKey.key.use((b) => b.toString('base64')),
  });
  assert.equal(pushed.json.state, 'safe');
  const r = await call('POST', '/api/v1/dump');
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.reason, 'on-demand');
  const files = await readdir(join(agentDir, 'dumps'));
  assert.equal(files.length, 1);
  const file = join(agentDir, 'dumps', files[0] as string);
  const sealed = await readFile(file);
  assert.equal(sealed.subarray(0, 8).toString('latin1'), 'CVSEALED');
  for (const plain of ['nodejsVersion', '"snapshot"', 'javascriptStack'])
    assert.equal(sealed.includes(plain), false, `${plain} in clear`);

  const out = join(root, 'out');
  const dec = cli(['dump', 'decrypt', file, '--key-file', hostKeyFile, '--out', out, '--json']);
  assert.equal(dec.status, 0, dec.stderr);
  const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as Json;
  assert.equal(report.header.processId, agent.pid);
  const heap = JSON.parse(await readFile(join(out, 'heap.heapsnapshot'), 'utf8')) as Json;
  assert.ok(heap.snapshot.node_count > 1000);

  // Another key does not open it.
  const other = await kms.newKek();
  const otherFile = join(root, 'other.key');
  await writeFile(
    otherFile,
    other.key.use((b) => Buffer.from(b)),
    { mode: 0o600 },
  );
  const bad = cli(['dump', 'decrypt', file, '--key-file', otherFile, '--out', join(root, 'bad')]);
  assert.notEqual(bad.status, 0);

  // Re-seal to a password for a support bundle, then open it with the password only.
  const bundle = join(root, 'bundle.cvdump');
  const rs = cli(['dump', 'decrypt', file, '--key-file', hostKeyFile, '--reseal-password', '--out', bundle], {
    input: 'correct horse\n',
  });
  assert.equal(rs.status, 0, rs.stderr);
  const pw = join(root, 'pw');
  await writeFile(pw, 'correct horse\n', { mode: 0o600 });
  const open2 = cli(['dump', 'decrypt', bundle, '--password-file', pw, '--out', join(root, 'out2')]);
  assert.equal(open2.status, 0, open2.stderr);
  assert.deepEqual(
    await readFile(join(root, 'out2', 'report.json')),
    await readFile(join(out, 'report.json')),
  );
  await writeFile(pw, 'wrong horse\n', { mode: 0o600 });
  assert.notEqual(
    cli(['dump', 'decrypt', bundle, '--password-file', pw, '--out', join(root, 'out3')]).status,
    0,
  );
});

test('an uncaught exception writes a sealed crash dump, then the process exits 70', async () => {
  const dir = join(root, 'crash');
  const mod = (p: string) => JSON.stringify(new URL(p, import.meta.url).href);
  const script = `
    import { readFileSync } from 'node:fs';
    import { DumpWriter } from ${mod('../../src/agent/dumps.js')};
    import { KeyCache } from ${mod('../../src/agent/keys.js')};
    import { SecretBytes } from ${mod('../../src/crypto/index.js')};
    import { silentLogger } from ${mod('../../src/common/logging.js')};
    const keys = new KeyCache();
    keys.setHostKey({ keyProviderId: 'local', keyId: 'h' }, SecretBytes.from(readFileSync(${JSON.stringify(hostKeyFile)}), { zeroSource: true }));
    new DumpWriter({ dataDir: ${JSON.stringify(dir)}, hostId: 'h1', keys, logger: silentLogger() }).installCrashHandler();
    setTimeout(() => { throw new Error('boom'); }, 1);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 70, r.stderr);
  const files = await readdir(join(dir, 'dumps'));
  assert.equal(files.length, 1);
  assert.match(files[0] as string, /^dump-\d{8}T\d{6}Z-crash-[0-9a-f]{8}\.cvdump$/);
  const out = join(root, 'crash-out');
  const dec = cli([
    'dump',
    'decrypt',
    join(dir, 'dumps', files[0] as string),
    '--key-file',
    hostKeyFile,
    '--out',
    out,
  ]);
  assert.equal(dec.status, 0, dec.stderr);
  const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as Json;
  assert.equal(typeof report.header.nodejsVersion, 'string');
});
