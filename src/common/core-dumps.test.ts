import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const MODULE = new URL('./core-dumps.js', import.meta.url).href;

// A child process: the test runner itself stays dumpable.
test('disableCoreDumps sets RLIMIT_CORE to 0 and clears the dumpable flag', () => {
  const script = `
    import { disableCoreDumps, coreDumpState } from ${JSON.stringify(MODULE)};
    import { readFileSync } from 'node:fs';
        const before = coreDumpState();
    const r = disableCoreDumps();
    const after = coreDumpState();
    const limits = readFileSync('/proc/self/limits', 'utf8').split('\\n').find((l) => l.startsWith('Max core file size'));
    console.log(JSON.stringify({ before, r, after, limits }));`;
  const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  const o = JSON.parse(out.stdout) as {
    before: { dumpable: boolean } | null;
    r: { native: boolean; ok: boolean };
    after: { dumpable: boolean; coreLimit: number } | null;
    limits: string;
  };
  if (!o.r.native) {
    // The addon is not built here: the wrapper reports it, and CI (which builds it) fails.
    assert.notEqual(process.env['CI'], 'true', 'the native addon must be built under CI');
    assert.equal(o.r.ok, false);
    return;
  }
  assert.equal(o.before?.dumpable, true);
  assert.equal(o.r.ok, true);
  assert.deepEqual(o.after, { dumpable: false, coreLimit: 0 });
  assert.match(o.limits, /^Max core file size\s+0\s+0\s+bytes/);
});
