/**
 * The README's five-minute tour, run as written (issue 6: the docs cannot drift from the code).
 * Every ```sh block of the "Five-minute tour" section runs in bash (-e, pipefail) against a fresh
 * `cryptvisor up --data TMP` (no example VMs), in order, in one working directory, with
 * CRYPTVISOR_DATA=TMP as the tour asks. `npx cryptvisor` resolves to this repository's
 * bin/cryptvisor.js; the test puts an `npx` on PATH that runs exactly that file (the real npx adds a
 * registry round trip per call). Every block runs even after one fails, and the failure names each
 * failing block.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI } from '../support/cli.js';
import { needPeers } from '../support/peers.js';
import { holdPreferredKmsPort } from '../support/default-port.js';

const README = fileURLToPath(new URL('../../../README.md', import.meta.url));

/** The ```sh blocks of one `## ` section of a Markdown file. */
function shellBlocks(markdown: string, heading: string): string[] {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `README has a "## ${heading}" section`);
  const rest = markdown.slice(start + heading.length + 5);
  const end = rest.search(/\n## /);
  const section = end >= 0 ? rest.slice(0, end) : rest;
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] as string);
}

interface Run {
  readonly status: number | null;
  readonly out: string;
}

function bash(script: string, cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-e', '-o', 'pipefail', '-c', script], {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => {
      out += `\n(timed out after ${timeoutMs} ms)`;
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, out });
    });
  });
}

function readPid(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

test('README five-minute tour: every block runs against cryptvisor up', { timeout: 900_000 }, async (t) => {
  if (!needPeers(t, 'nbdcopy')) return;
  await holdPreferredKmsPort(t);
  const blocks = shellBlocks(readFileSync(README, 'utf8'), 'Five-minute tour');
  assert.ok(blocks.length >= 5, 'create, restart, rekey, migrate and recover blocks');
  const root = mkdtempSync(join(tmpdir(), 'cv-tour-'));
  const data = join(root, 'D');
  const work = join(root, 'work');
  const bin = join(root, 'bin');
  mkdirSync(work);
  mkdirSync(bin);
  writeFileSync(
    join(bin, 'npx'),
    `#!/bin/sh\nif [ "$1" = cryptvisor ]; then shift; exec '${process.execPath}' '${CLI}' "$@"; fi\necho "the tour runs only npx cryptvisor" >&2; exit 127\n`,
  );
  chmodSync(join(bin, 'npx'), 0o755);
  const env: NodeJS.ProcessEnv = {
    PATH: `${bin}:${process.env['PATH'] ?? '/usr/bin:/bin'}`,
    HOME: join(root, 'home'),
    XDG_CONFIG_HOME: join(root, 'config'),
    CRYPTVISOR_DATA: data,
  };
  const up = spawn(process.execPath, [CLI, 'up', '--data', data, '--hosts', '2', '--no-examples'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => {
    // Never leave a process behind: the supervisor, then each service by its pid file.
    if (up.exitCode === null) up.kill('SIGKILL');
    for (const name of ['up', 'kms', 'center', 'host-1', 'host-2']) {
      const pid = readPid(join(data, 'run', `${name}.pid`));
      if (pid) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    rmSync(root, { recursive: true, force: true });
  });

  let upOut = '';
  up.stdout.on('data', (d: Buffer) => (upOut += d.toString()));
  up.stderr.on('data', (d: Buffer) => (upOut += d.toString()));
  const exited = new Promise<number | null>((r) => up.once('exit', (c) => r(c)));
  const deadline = Date.now() + 300_000;
  while (!/^ready$/m.test(upOut)) {
    assert.ok(
      Date.now() < deadline && up.exitCode === null,
      `cryptvisor up is ready (output:\n${upOut.slice(-3000)})`,
    );
    await new Promise((r) => setTimeout(r, 200));
  }

  const failures: string[] = [];
  for (const [i, block] of blocks.entries()) {
    const r = await bash(block, work, env, 180_000);
    if (r.status !== 0) {
      failures.push(`block ${i + 1} (${block.split('\n')[0]}) exited ${r.status}:\n${r.out.slice(-2000)}`);
    }
  }

  const down = await bash(`'${process.execPath}' '${CLI}' down --data '${data}'`, work, env, 120_000);
  assert.equal(down.status, 0, down.out);
  assert.equal(await exited, 0, 'up stops cleanly after the tour');
  assert.deepEqual(failures, [], failures.join('\n\n'));
});
