import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { PassThrough } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../common/logging.js';
import { UP_COMMANDS } from './up.js';
import { dataDir, endpointsOf, isOurProcess, readUpState, upLayout } from '../up-layout.js';
import { choosePorts } from '../up-setup.js';

// The whole system under `up` runs as real processes in test/system/up.test.ts; these are the parts.

test('up: the data dir is --data, else CRYPTVISOR_DATA, else ./.cryptvisor', () => {
  assert.equal(dataDir('/a/b', { CRYPTVISOR_DATA: '/c' }), '/a/b');
  assert.equal(dataDir(undefined, { CRYPTVISOR_DATA: '/c' }), '/c');
  assert.equal(dataDir(undefined, {}), join(process.cwd(), '.cryptvisor'));
  const l = upLayout('/d');
  assert.equal(l.pidFile('host-2'), '/d/run/host-2.pid');
  assert.equal(l.credentials, '/d/credentials.json');
  assert.equal(l.endpoints, '/d/run/endpoints.json');
  assert.equal(l.host('host-1'), '/d/hosts/host-1');
});

test('up: endpoints.json has exactly the shape of DESIGN §10', () => {
  const e = endpointsOf({ kms: 5696, center: 8443, hosts: { 'host-1': 9001, 'host-2': 9002 } });
  assert.deepEqual(e, {
    kms: { kmip: '127.0.0.1:5696', https: 'https://127.0.0.1:5696' },
    center: 'https://127.0.0.1:8443',
    hosts: { 'host-1': { api: 'https://127.0.0.1:9001' }, 'host-2': { api: 'https://127.0.0.1:9002' } },
  });
});

test('up: saved ports are reused; new hosts get distinct free ports', async () => {
  const saved = { kms: 40001, center: 40002, hosts: { 'host-1': 40003 } };
  const p = await choosePorts(saved, 3);
  assert.equal(p.kms, 40001);
  assert.equal(p.center, 40002);
  assert.equal(p.hosts['host-1'], 40003);
  const all = [p.kms, p.center, ...Object.values(p.hosts)];
  assert.equal(new Set(all).size, 5);
  const upgraded = await choosePorts({ kms: 40001 }, 1);
  assert.equal(upgraded.kms, 40001, 'the KMS port of the first version of up is kept');
  const fresh = await choosePorts(undefined, 2);
  assert.equal(new Set([fresh.kms, fresh.center, ...Object.values(fresh.hosts)]).size, 4);
});

test('up: a state file of another version is refused with state_invalid; a stale pid is not ours', () => {
  const d = mkdtempSync(join(tmpdir(), 'cv-up-unit-'));
  try {
    const l = upLayout(d);
    assert.deepEqual(readUpState(l), { version: 1 });
    writeFileSync(l.state, '{"version":9}');
    assert.throws(() => readUpState(l), { code: 'state_invalid' });
    assert.equal(isOurProcess(process.pid, d), false, 'the test runner is not a cryptvisor service of d');
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

function runUp(options: Record<string, string>): Promise<unknown> {
  const spec = UP_COMMANDS.find((c) => c.path[0] === 'up')!;
  return spec.run({
    args: { positionals: {}, options },
    json: false,
    env: {},
    stdout: new PassThrough(),
    stderr: new PassThrough(),
    stdin: process.stdin,
    isTTY: false,
    logger: silentLogger(),
    signal: new AbortController().signal,
  });
}

test('up: --hosts is checked before anything starts', async () => {
  const d = mkdtempSync(join(tmpdir(), 'cv-up-unit-'));
  try {
    await assert.rejects(runUp({ data: d, hosts: '0' }), { code: 'usage' });
    await assert.rejects(runUp({ data: d, hosts: 'two' }), { code: 'usage' });
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('up: a saved port taken by another program is refused before anything is initialized', async () => {
  const d = mkdtempSync(join(tmpdir(), 'cv-up-unit-'));
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  try {
    const port = (busy.address() as { port: number }).port;
    const free = await choosePorts(undefined, 1);
    writeFileSync(join(d, 'up.json'), JSON.stringify({ version: 1, ports: { ...free, center: port } }));
    await assert.rejects(runUp({ data: d, hosts: '1' }), {
      code: 'start_failed',
      message: new RegExp(`port ${port} of center`),
    });
    assert.ok(!existsSync(join(d, 'kms')), 'nothing initialized');
    assert.ok(!existsSync(join(d, 'run', 'up.pid')), 'the pid file is removed');
  } finally {
    busy.close();
    rmSync(d, { recursive: true, force: true });
  }
});
