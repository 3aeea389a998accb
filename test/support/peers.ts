/**
 * Real peers for tests (DESIGN.md §9). A test asks for what it needs; outside CI a missing peer
 * skips the test with its name (and `npm test` names .ci/setup), under CI=true it is a failure.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';

/** Debian's Python, which has PyKMIP, libnbd and cryptography; not the first python3 on PATH. */
export const PYTHON = '/usr/bin/python3';

const cache = new Map<string, boolean>();

function haveBinary(name: string): boolean {
  if (name.startsWith('/')) return existsSync(name);
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

function havePythonModule(mod: string): boolean {
  return existsSync(PYTHON) && spawnSync(PYTHON, ['-c', `import ${mod}`], { stdio: 'ignore' }).status === 0;
}

/** A peer is a binary name, an absolute path, or `py:module` for a Python module. */
export function havePeer(peer: string): boolean {
  let ok = cache.get(peer);
  if (ok === undefined) {
    ok = peer.startsWith('py:') ? havePythonModule(peer.slice(3)) : haveBinary(peer);
    cache.set(peer, ok);
  }
  return ok;
}

export const IN_CI = process.env['CI'] === 'true';

/**
 * True when every peer is present. Otherwise: under CI the test fails; elsewhere it is skipped
 * with the missing peers named, and the caller returns.
 */
export function needPeers(t: TestContext, ...peers: string[]): boolean {
  const missing = peers.filter((p) => !havePeer(p));
  if (missing.length === 0) return true;
  const msg = `missing test peer(s): ${missing.join(', ')} (install with: bash .ci/setup)`;
  if (IN_CI) assert.fail(msg);
  t.skip(msg);
  return false;
}

/** The PostgreSQL URL for contract tests, or undefined (then the caller applies needPg). */
export function testPgUrl(): string | undefined {
  return process.env['CRYPTVISOR_TEST_PG'] || undefined;
}

export function needPg(t: TestContext): string | undefined {
  const url = testPgUrl();
  if (url) return url;
  const msg = 'CRYPTVISOR_TEST_PG is not set (start PostgreSQL with: bash .ci/pg)';
  if (IN_CI) assert.fail(msg);
  t.skip(msg);
  return undefined;
}
