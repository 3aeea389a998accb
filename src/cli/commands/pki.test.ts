import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { silentLogger } from '../../common/logging.js';
import { runCli } from '../run.js';
import { PKI_COMMANDS } from './pki.js';

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await runCli(PKI_COMMANDS, argv, {
    env: {},
    stdout,
    stderr,
    stdin: new PassThrough(),
    isTTY: false,
    logger: silentLogger(),
    signal: new AbortController().signal,
  });
  return { code, out, err };
}

test('pki init and pki issue: files, --json output, usage errors exit 2', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cv-pki-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const init = await cli(['pki', 'init', '--dir', dir, '--json']);
  assert.equal(init.code, 0, init.err);
  assert.equal(JSON.parse(init.out).certFile, join(dir, 'ca.pem'));

  const srv = await cli([
    'pki',
    'issue',
    '--dir',
    dir,
    '--name',
    'kms',
    '--server',
    '--san',
    'localhost,127.0.0.1',
    '--json',
  ]);
  assert.equal(srv.code, 0, srv.err);
  const r = JSON.parse(srv.out) as { certFile: string; keyFile: string; fingerprintSha256: string };
  assert.equal(r.keyFile, join(dir, 'kms.key'));
  assert.match(r.fingerprintSha256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  assert.equal((await stat(r.keyFile)).mode & 0o777, 0o600);

  assert.equal((await cli(['pki', 'issue', '--dir', dir, '--name', 'a', '--client'])).code, 0);
  assert.equal((await cli(['pki', 'issue', '--dir', dir, '--name', 'b', '--server'])).code, 2);
  assert.equal(
    (await cli(['pki', 'issue', '--dir', dir, '--name', 'b', '--client', '--server', '--san', 'x'])).code,
    2,
  );
  assert.equal((await cli(['pki', 'issue', '--dir', dir, '--name', 'b'])).code, 2);
  assert.equal((await cli(['pki', 'issue', '--name', 'b', '--client'])).code, 2);
  const again = await cli(['pki', 'init', '--dir', dir, '--json']);
  assert.equal(again.code, 1);
  assert.equal(JSON.parse(again.out).error.code, 'file_exists');
});
