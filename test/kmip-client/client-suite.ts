/**
 * The checks our KMIP client runs against any KMIP server (PyKMIP's, the project's KMS): the key
 * lifecycle center uses, Secret Data, and an independent look at the key bytes through PyKMIP's
 * own client (compared as SHA-256 digests, so no key material reaches the test output).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KmipClient } from '../../src/kmip/client.js';
import { KmipOperationError } from '../../src/kmip/client-errors.js';
import type { ProtocolVersion } from '../../src/kmip/messages.js';
import { isKmipError, type KmipErrorCode } from '../../src/kmip/errors.js';
import { PYTHON } from '../support/peers.js';

export interface PyKmipClientTarget {
  readonly host: string;
  readonly port: number;
  /** Paths of the CA, client certificate and key PyKMIP's client reads. */
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

const execFileP = promisify(execFile);

/**
 * SHA-256 (hex) of an object's bytes as PyKMIP's client (Debian python3-pykmip) gets them. Async, so
 * that a server running in this very process keeps answering.
 */
export async function pykmipClientDigest(target: PyKmipClientTarget, id: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'cv-pykmip-client-'));
  try {
    const conf = join(dir, 'client.conf');
    writeFileSync(
      conf,
      [
        '[client]',
        `host=${target.host}`,
        `port=${target.port}`,
        `certfile=${target.cert}`,
        `keyfile=${target.key}`,
        `ca_certs=${target.ca}`,
        'cert_reqs=CERT_REQUIRED',
        'ssl_version=PROTOCOL_SSLv23',
        'do_handshake_on_connect=True',
        'suppress_ragged_eofs=True',
        '',
      ].join('\n'),
    );
    const script = [
      'import hashlib, sys, logging',
      'logging.disable(logging.CRITICAL)',
      'from kmip.pie.client import ProxyKmipClient',
      'c = ProxyKmipClient(config="client", config_file=sys.argv[1])',
      'c.open()',
      'obj = c.get(sys.argv[2])',
      'print(hashlib.sha256(obj.value).hexdigest())',
      'c.close()',
    ].join('\n');
    const r = await execFileP(PYTHON, ['-c', script, conf, id], { encoding: 'utf8', timeout: 30_000 }).catch(
      (err: Error & { stderr?: string }) =>
        assert.fail(`PyKMIP client failed: ${(err.stderr ?? err.message).slice(-2000)}`),
    );
    return r.stdout.trim().split('\n').pop()!;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function stateOf(c: KmipClient, id: string): Promise<number> {
  const attrs = await c.getAttributes(id, ['State']);
  const st = attrs.find((a) => a.name === 'State');
  assert.ok(st && st.value.type === 'Enumeration', 'State attribute present');
  return st.value.value as number;
}

/** The protocol versions every server is tested at: 1.2 (the default), 2.0, and negotiated. */
export const SUITE_VERSIONS: readonly {
  readonly version: ProtocolVersion | 'negotiate';
  readonly label: string;
}[] = [
  { version: { major: 1, minor: 2 }, label: 'KMIP 1.2' },
  { version: { major: 2, minor: 0 }, label: 'KMIP 2.0' },
  { version: 'negotiate', label: 'negotiated version' },
];

export interface LifecycleExpectations {
  /** The codes a refusal to destroy an Active key may have (servers pick different Result Reasons). */
  readonly destroyActiveCodes: readonly KmipErrorCode[];
  /** The version a negotiating client must end up with. */
  readonly negotiated?: ProtocolVersion;
  /** Where PyKMIP's client can fetch the same key, to compare the bytes. */
  readonly pykmipClient?: PyKmipClientTarget;
}

/**
 * Create (AES-256, Encrypt|Decrypt, named), check Pre-Active, Activate, GetAttributes, Locate by
 * name and by type and state, Get (32 bytes, same as PyKMIP's client sees), Destroy refused while
 * Active, Revoke → Deactivated, Destroy, Get fails, Locate finds nothing.
 */
export async function checkLifecycle(
  c: KmipClient,
  name: string,
  expect: LifecycleExpectations,
): Promise<void> {
  const id = await c.create({ algorithm: 'AES', length: 256, usageMask: ['Encrypt', 'Decrypt'], name });
  assert.match(id, /^\S+$/);
  if (expect.negotiated) assert.deepEqual(c.protocolVersion, expect.negotiated);
  assert.equal(await stateOf(c, id), 1, 'a created key is Pre-Active');

  await c.activate(id);
  assert.equal(await stateOf(c, id), 2, 'Active after Activate');

  const all = await c.getAttributes(id);
  const byName = new Map(all.map((a) => [a.name, a.value]));
  assert.deepEqual(byName.get('Cryptographic Length'), { tag: 0x42000b, type: 'Integer', value: 256 });
  assert.deepEqual(byName.get('Cryptographic Usage Mask'), { tag: 0x42000b, type: 'Integer', value: 12 });
  assert.deepEqual(byName.get('Cryptographic Algorithm'), { tag: 0x42000b, type: 'Enumeration', value: 3 });

  assert.deepEqual(await c.locate({ name }), [id]);
  assert.ok((await c.locate({ objectType: 'SymmetricKey', state: 'Active' })).includes(id));

  const key = await c.get(id);
  try {
    assert.equal(key.uniqueIdentifier, id);
    assert.equal(key.objectType, 'SymmetricKey');
    assert.equal(key.algorithm, 'AES');
    assert.equal(key.length, 256);
    assert.equal(key.material.length, 32);
    assert.equal(String(key.material), '[redacted]');
    if (expect.pykmipClient) {
      const ours = key.material.use((b) => createHash('sha256').update(b).digest('hex'));
      assert.ok(
        ours === (await pykmipClientDigest(expect.pykmipClient, id)),
        "our client and PyKMIP's client get the same key bytes",
      );
    }
  } finally {
    key.material.dispose();
  }

  await assert.rejects(c.destroy(id), (e: unknown) => {
    assert.ok(e instanceof KmipOperationError, String(e));
    assert.ok(
      expect.destroyActiveCodes.some((code) => isKmipError(e, code)),
      `code ${e.code}: ${e.message}`,
    );
    assert.equal(e.operation, 'Destroy');
    return true;
  });

  await c.revoke(id, 'CessationOfOperation', 'VM decommissioned');
  assert.equal(await stateOf(c, id), 3, 'Deactivated after Revoke');
  await c.destroy(id);
  await assert.rejects(c.get(id), (e: unknown) => e instanceof KmipOperationError);
  // A server may drop a destroyed object (PyKMIP) or keep a record of it in state Destroyed (ours).
  const left = await c.locate({ name });
  if (left.length > 0) {
    assert.deepEqual(left, [id]);
    assert.equal(await stateOf(c, id), 5, 'a destroyed object that is kept is Destroyed');
  }
}

/** Register Secret Data and read the same bytes back. */
export async function checkSecretData(c: KmipClient, name: string): Promise<void> {
  const secret = Buffer.from('correct horse battery staple');
  const id = await c.registerSecretData(secret, name);
  const obj = await c.get(id);
  try {
    assert.equal(obj.objectType, 'SecretData');
    assert.ok(
      obj.material.use((b) => b.equals(secret)),
      'the secret comes back unchanged',
    );
  } finally {
    obj.material.dispose();
  }
}

/** Revoke for KeyCompromise (with a Compromise Occurrence Date): Compromised; then it can be destroyed. */
export async function checkCompromise(c: KmipClient): Promise<void> {
  const id = await c.create({ algorithm: 'AES', length: 256, usageMask: ['Encrypt', 'Decrypt'] });
  await c.activate(id);
  await c.revoke(id, 'KeyCompromise', 'host stolen');
  assert.equal(await stateOf(c, id), 4, 'Compromised after a KeyCompromise revocation');
  await c.destroy(id);
}
