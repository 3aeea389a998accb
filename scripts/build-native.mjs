// npm's `install` step: builds the native XTS addon (native/) against Node's own headers and
// OpenSSL. A failed build leaves the pure-Node fallback in use, with a warning; under CI=true it
// fails the install, so CI always tests the addon.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
if (!existsSync(join(nativeDir, 'binding.gyp'))) process.exit(0);

const npmNodeGyp = process.env.npm_config_node_gyp;
const cmd = npmNodeGyp ? [process.execPath, [npmNodeGyp, 'rebuild']] : ['node-gyp', ['rebuild']];
const r = spawnSync(cmd[0], cmd[1], { cwd: nativeDir, stdio: 'inherit', env: process.env });
if (r.status !== 0) {
  const msg = 'cryptvisor: the native XTS addon did not build; the pure-Node engine will be used (slower).';
  if (process.env.CI === 'true') {
    console.error(msg + ' Under CI=true this is a failure.');
    process.exit(1);
  }
  console.warn(msg);
}
