/**
 * PyKMIP's client (Debian python3-pykmip, run with /usr/bin/python3) against our KMS over mutual
 * TLS, at KMIP 1.1, 1.2 and 2.0: create, register, get, get_attributes, get_attribute_list,
 * activate, locate, revoke, destroy (issue 2, "Conformance and interoperability").
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PYTHON, havePeer, needPeers } from '../support/peers.js';
import { startTestKms, type KmsUnderTest } from '../kmip-conformance/kms-under-test.js';

const execFileP = promisify(execFile);
const SCRIPT = new URL('../../../test/pykmip/pykmip-client-ops.py', import.meta.url).pathname;
const PEER = 'py:kmip';

interface Step {
  readonly op: string;
  readonly ok: boolean;
  readonly detail: unknown;
}

interface Run {
  readonly version: string;
  readonly created: string | null;
  readonly registered: string | null;
  readonly steps: readonly Step[];
}

describe('PyKMIP client against the cryptvisor KMS', () => {
  let kms: KmsUnderTest | undefined;
  let dir = '';

  before(async () => {
    if (!havePeer(PEER)) return;
    kms = await startTestKms();
    dir = mkdtempSync(join(tmpdir(), 'cv-pykmip-client-'));
  });

  after(async () => {
    await kms?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const version of ['1.1', '1.2', '2.0']) {
    test(`KMIP ${version}: create, register, get, get_attributes, get_attribute_list, activate, locate, revoke, destroy`, async (t) => {
      if (!needPeers(t, PEER)) return;
      assert.ok(kms);
      const id = await kms.identities.issue(`pykmip-client-${version}`);
      const files = {
        ca: join(dir, `ca-${version}.pem`),
        cert: join(dir, `c-${version}.pem`),
        key: join(dir, `c-${version}.key`),
      };
      writeFileSync(files.ca, id.ca);
      writeFileSync(files.cert, id.cert);
      writeFileSync(files.key, id.key, { mode: 0o600 });
      const { stdout } = await execFileP(
        PYTHON,
        [SCRIPT, '127.0.0.1', String(kms.port), files.cert, files.key, files.ca, version],
        {
          timeout: 60_000,
        },
      );
      const run = JSON.parse(stdout.trim().split('\n').pop()!) as Run;
      const step = (op: string): Step => {
        const s = run.steps.find((x) => x.op === op);
        assert.ok(s, `no step ${op}`);
        return s;
      };
      const ok = (op: string): unknown => {
        const s = step(op);
        assert.ok(s.ok, `${op} failed at KMIP ${version}: ${JSON.stringify(s.detail)}`);
        return s.detail;
      };

      assert.equal(typeof ok('create'), 'string');
      assert.equal(typeof ok('register'), 'string');
      assert.notEqual(run.created, run.registered);
      assert.deepEqual(ok('get'), { type: 'SymmetricKey', algorithm: 'AES', length: 256, bytes: 32 });
      assert.deepEqual(ok('get-registered'), { type: 'SymmetricKey', length: 128, sameMaterial: true });
      const attrs = ok('get_attributes') as { uid: string; attributes: Record<string, unknown> };
      assert.equal(attrs.uid, run.created);
      assert.equal(attrs.attributes['Cryptographic Algorithm'], 'AES');
      assert.equal(attrs.attributes['Cryptographic Length'], 256);
      assert.equal(attrs.attributes['State'], 'PRE_ACTIVE');
      assert.equal(attrs.attributes['Object Type'], 'SYMMETRIC_KEY');
      const names = ok('get_attribute_list') as string[];
      for (const n of [
        'Cryptographic Algorithm',
        'Cryptographic Length',
        'State',
        'Unique Identifier',
        'Object Type',
      ]) {
        assert.ok(names.includes(n), `get_attribute_list lacks ${n}: ${names.join(', ')}`);
      }
      ok('activate');
      assert.equal(ok('state-after-activate'), 'ACTIVE');
      assert.deepEqual(ok('locate'), { found: [run.created] });
      assert.deepEqual(ok('locate-by-type'), { containsBoth: true });
      ok('revoke');
      assert.equal(ok('state-after-revoke'), 'DEACTIVATED');
      ok('destroy');
      const gone = step('get-after-destroy');
      assert.equal(gone.ok, false, 'Get of a destroyed key succeeded');
      ok('destroy-registered');
    });
  }
});
