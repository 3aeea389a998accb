// `npm test`: makes sure the test peers are installed, builds, lints, and runs every test file
// with node:test. Arguments filter test files by substring: `npm test -- src/kmip`.
// SKIP_LINT=1 skips lint (for quick local loops; CI always lints).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const ci = process.env.CI === 'true';
const filters = process.argv.slice(2);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  return r.status ?? 1;
}

// 1. Test peers (Debian packages). CI's .ci/run has already run .ci/setup.
if (!ci) {
  const isRoot = process.getuid?.() === 0;
  if (isRoot && existsSync('/usr/bin/apt-get')) {
    if (run('bash', ['.ci/setup']) !== 0) console.warn('npm test: .ci/setup failed; tests of missing peers will be skipped');
  } else {
    console.warn('npm test: not root or no apt; install the test peers with: sudo bash .ci/setup (missing peers are skipped)');
  }
  if (!process.env.CRYPTVISOR_TEST_PG && isRoot && existsSync('/usr/bin/pg_ctlcluster')) {
    const r = spawnSync('bash', ['.ci/pg'], { cwd: root, encoding: 'utf8' });
    if (r.status === 0) process.env.CRYPTVISOR_TEST_PG = r.stdout.trim();
  }
}

// 2. Build.
// A filtered local run goes on past type errors elsewhere in the tree (tsc still emits); a full run does not.
if (run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json']) !== 0) {
  if (ci || filters.length === 0) process.exit(1);
  console.warn('npm test: type errors (see above); running the filtered tests anyway');
}

// 3. Lint.
if (process.env.SKIP_LINT !== '1' || ci) {
  if (run(process.execPath, [join(root, 'node_modules/eslint/bin/eslint.js'), '.']) !== 0) process.exit(1);
}

// 4. Tests.
function collect(dir, out) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) collect(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}
let files = [...collect(join(root, 'dist/src'), []), ...collect(join(root, 'dist/test'), [])].sort();
if (filters.length > 0) files = files.filter((f) => filters.some((s) => relative(root, f).includes(s)));
if (files.length === 0) {
  console.error('npm test: no test files found');
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '3';
process.exit(run(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...files]));
