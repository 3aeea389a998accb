import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../../../bin/cryptvisor.js', import.meta.url));

function waitFor(check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (check()) resolve();
      else if (Date.now() > deadline) reject(new Error('timed out'));
      else setTimeout(tick, 50);
    };
    tick();
  });
}

function pidOf(file: string): number | undefined {
  try {
    return Number(readFileSync(file, 'utf8').trim());
  } catch {
    return undefined;
  }
}

test('up: inits and serves the KMS, writes pids and endpoints, restarts a killed KMS, stops on SIGINT', { timeout: 120_000 }, async (t) => {
  const data = mkdtempSync(join(tmpdir(), 'cv-up-'));
  t.after(() => rmSync(data, { recursive: true, force: true }));
  const up = spawn(process.execPath, [CLI, 'up', '--data', data], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  up.stdout.on('data', (c: Buffer) => (out += c.toString()));
  up.stderr.on('data', () => undefined);
  const exited = new Promise<number | null>((r) => up.once('exit', (code) => r(code)));
  t.after(() => {
    if (up.exitCode === null) up.kill('SIGKILL');
  });
  await waitFor(() => out.includes('ready\n'), 90_000);
  assert.match(out, /admin client certificate: .*admin\.pem/);
  const endpoints = JSON.parse(readFileSync(join(data, 'run', 'endpoints.json'), 'utf8')) as { kms: { kmip: string; https: string } };
  assert.match(endpoints.kms.kmip, /^127\.0\.0\.1:\d+$/);
  assert.equal(endpoints.kms.https, `https://${endpoints.kms.kmip}`);
  assert.equal(pidOf(join(data, 'run', 'up.pid')), up.pid);
  assert.ok(existsSync(join(data, 'kms', 'pki', 'admin.pem')));
  const first = pidOf(join(data, 'run', 'kms.pid')) as number;
  process.kill(first, 'SIGKILL');
  await waitFor(() => {
    const p = pidOf(join(data, 'run', 'kms.pid'));
    return p !== undefined && p !== first;
  }, 20_000);
  const status = spawn(process.execPath, [CLI, 'status', '--data', data, '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let sOut = '';
  status.stdout.on('data', (c: Buffer) => (sOut += c.toString()));
  await new Promise((r) => status.once('exit', r));
  const s = JSON.parse(sOut) as { up: boolean; kms: { pid: number | null } };
  assert.equal(s.up, true);
  up.kill('SIGINT');
  assert.equal(await exited, 0);
  assert.ok(!existsSync(join(data, 'run', 'up.pid')), 'pid file removed');
  assert.ok(!existsSync(join(data, 'run', 'endpoints.json')), 'endpoints removed');
});
