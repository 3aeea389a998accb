import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable, Readable } from 'node:stream';
import { silentLogger } from '../../common/logging.js';
import { runCli } from '../run.js';
import { KMS_COMMANDS } from './kms.js';

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const sink = (f: (s: string) => void) => new Writable({ write: (c, _e, cb) => (f(String(c)), cb()) });
  const code = await runCli(KMS_COMMANDS, argv, {
    env: {},
    stdout: sink((s) => (out += s)),
    stderr: sink((s) => (err += s)),
    stdin: Readable.from([]),
    isTTY: false,
    logger: silentLogger(),
    signal: new AbortController().signal,
  });
  return { code, out, err };
}

test('kms CLI: init (refuses twice), serve, backup, restore into a joined node, rotate-root-key', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cv-kms-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const a = join(dir, 'a');
  const init = await cli(['kms', 'init', '--data', a, '--json']);
  assert.equal(init.code, 0, init.err);
  assert.match(JSON.parse(init.out).adminCert, /admin\.pem$/);
  const again = await cli(['kms', 'init', '--data', a]);
  assert.notEqual(again.code, 0);
  assert.match(again.err, /already/);

  const { startKms } = await import('../../kms/server.js');
  const kms = await startKms({ dataDir: a, host: '127.0.0.1', port: 0, logLevel: 'silent' });
  const { aesCreate, request, ALICE } = await import('../../kms/test-harness.js');
  const { encodeTtlv } = await import('../../kmip/index.js');
  await kms.service.handleBytes(encodeTtlv(request('1.2', [{ operation: 'Create', payload: aesCreate() }])), ALICE);
  await kms.close();

  const file = join(dir, 'backup.bin');
  const b = await cli(['kms', 'backup', '--data', a, '--out', file, '--json']);
  assert.equal(b.code, 0, b.err);
  assert.equal(JSON.parse(b.out).objects, 1);
  const node2 = join(dir, 'b');
  const join2 = await cli(['kms', 'init', '--data', node2, '--join', a]);
  assert.equal(join2.code, 0, join2.err);
  const r = await cli(['kms', 'restore', '--data', node2, '--in', file, '--json']);
  assert.equal(r.code, 0, r.err);
  assert.equal(JSON.parse(r.out).objects, 1);
  const rot = await cli(['kms', 'rotate-root-key', '--data', a, '--json']);
  assert.equal(rot.code, 0, rot.err);
  assert.equal(JSON.parse(rot.out).resealed, 1);
  const usage = await cli(['kms', 'serve']);
  assert.equal(usage.code, 2, 'missing --data is a usage error');
});
