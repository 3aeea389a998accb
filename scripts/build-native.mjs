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

// node-gyp: the one npm names when it runs this script, else the copy bundled with npm beside this
// node, else one on PATH. It compiles against npm's nodedir (here /usr, whose include/node has Node's
// headers and OpenSSL's) and links no libcrypto: the addon uses the OpenSSL symbols node exports.
const bundled = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const npmNodeGyp = process.env.npm_config_node_gyp || (existsSync(bundled) ? bundled : undefined);
// Node's own headers: npm's nodedir when npm runs us, else the prefix of this node (offline, no download).
const prefix = join(dirname(process.execPath), '..');
const nodedir = process.env.npm_config_nodedir || (existsSync(join(prefix, 'include', 'node', 'common.gypi')) ? prefix : undefined);
const gypArgs = ['rebuild', ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
const cmd = npmNodeGyp ? [process.execPath, [npmNodeGyp, ...gypArgs]] : ['node-gyp', gypArgs];
const r = spawnSync(cmd[0], cmd[1], { cwd: nativeDir, stdio: 'inherit', env: process.env });
if (r.status !== 0) {
  const msg = 'cryptvisor: the native XTS addon did not build; the pure-Node engine will be used (slower).';
  if (process.env.CI === 'true') {
    console.error(msg + ' Under CI=true this is a failure.');
    process.exit(1);
  }
  console.warn(msg);
}
