/** nbdsh (libnbd's Python shell) in strict mode, unaligned, against both device kinds. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { PYTHON, needPeers } from '../support/peers.js';
import { KINDS, run, serve } from './harness.js';

/** The script lives in the source tree (tsc does not copy it to dist/). */
const SCRIPT = fileURLToPath(new URL('../../../test/nbd/nbdsh-strict.py', import.meta.url));

for (const kind of KINDS) {
  test(`nbdsh strict mode: random unaligned I/O, concurrent RMW, server-side errors (${kind})`, async (t) => {
    if (!needPeers(t, 'nbdsh', 'py:nbd')) return;
    const s = await serve(t, kind, { size: 2 * 1024 * 1024 });
    // nbdsh is `python3 -m nbd`; run it with Debian's Python, which has the libnbd module.
    const r = await run(PYTHON, ['-m', 'nbd', '-u', s.uri, '-c', `exec(open(${JSON.stringify(SCRIPT)}).read())`]);
    assert.match(r.stdout, /nbdsh-ok/);
  });
}
