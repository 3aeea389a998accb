// `npm run bench` (after the build in package.json): runs each compiled benchmark dist/bench/*.js in
// turn, each in its own Node process so one benchmark's heap and sockets cannot skew the next, and
// prints their results followed by a summary. Arguments filter benchmarks by substring:
// `npm run bench -- kms`. Environment knobs belong to each benchmark (see BENCHMARKS.md).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dir = join(root, 'dist/bench');
const filters = process.argv.slice(2);

if (!existsSync(dir)) {
  console.error('npm run bench: dist/bench does not exist; build first (npx tsc -p tsconfig.json)');
  process.exit(1);
}
let files = readdirSync(dir)
  .filter((n) => n.endsWith('.js') && !n.endsWith('.test.js'))
  .sort();
if (filters.length > 0) files = files.filter((n) => filters.some((f) => n.includes(f)));
if (files.length === 0) {
  console.error('npm run bench: no benchmark matched');
  process.exit(1);
}

const summary = [];
for (const name of files) {
  console.log(`\n=== bench/${name.replace(/\.js$/, '.ts')} ===`);
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [join(dir, name)], { cwd: root, stdio: 'inherit' });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  summary.push({ name, status: r.status ?? 1, signal: r.signal, seconds });
}

console.log('\n=== summary ===');
for (const s of summary) {
  const how = s.status === 0 ? 'ok' : s.signal ? `killed by ${s.signal}` : `exit ${s.status}`;
  console.log(`${s.name.padEnd(30)} ${how.padEnd(16)} ${s.seconds.toFixed(1)} s`);
}
process.exit(summary.every((s) => s.status === 0) ? 0 : 1);
