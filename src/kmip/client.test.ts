import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KmipClient } from './client.js';
import { KmipClientError } from './client-errors.js';
import { initCa, issueCertificate } from '../common/pki.js';

/** Real PEMs from the project's PKI: a CA, a client certificate and two keys that do not match. */
const dir = mkdtempSync(join(tmpdir(), 'cv-kmip-client-unit-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let pemsPromise: Promise<{ ca: string; cert: string; key: string; otherKey: string }> | undefined;
function pems(): Promise<{ ca: string; cert: string; key: string; otherKey: string }> {
  pemsPromise ??= (async () => {
    await initCa(dir);
    await issueCertificate(dir, 'client', { kind: 'client' });
    const read = (f: string) => readFileSync(join(dir, f), 'utf8');
    return {
      ca: read('ca.pem'),
      cert: read('client.pem'),
      key: read('client.key'),
      otherKey: read('ca.key'),
    };
  })();
  return pemsPromise;
}

const invalid = (e: unknown) => e instanceof KmipClientError && e.code === 'argument_invalid';

test('the client refuses bad options before connecting', async () => {
  const { ca, cert, key, otherKey } = await pems();
  const base = { servers: [{ host: '127.0.0.1', port: 5696 }], ca, cert, key };
  assert.throws(() => new KmipClient({ ...base, servers: [] }), invalid);
  assert.throws(() => new KmipClient({ ...base, poolSize: 0 }), invalid);
  assert.throws(() => new KmipClient({ ...base, timeoutMs: 0 }), invalid);
  assert.throws(() => new KmipClient({ ...base, protocolVersion: { major: 3, minor: 0 } }), invalid);
  assert.throws(() => new KmipClient({ ...base, cert: '' }), invalid);
  assert.throws(() => new KmipClient({ ...base, key: 'not a key' }), invalid);
  assert.throws(
    () => new KmipClient({ ...base, key: otherKey }),
    (e: unknown) => invalid(e) && !String((e as Error).message).includes('PRIVATE KEY'),
    'a key that does not match the certificate; the message shows no key',
  );
  const c = new KmipClient(base);
  assert.deepEqual(c.protocolVersion, { major: 1, minor: 2 });
  c.close();
});

test('operations refuse bad arguments without a round trip', async () => {
  const { ca, cert, key } = await pems();
  const c = new KmipClient({ servers: [{ host: '127.0.0.1', port: 1 }], ca, cert, key });
  try {
    await assert.rejects(c.activate(''), invalid);
    await assert.rejects(c.create({ algorithm: 'AES', length: 0, usageMask: 12 }), invalid);
    await assert.rejects(
      c.create({ algorithm: 'AES', length: 256, usageMask: ['Encrypt', 'Nope' as never] }),
      invalid,
    );
    await assert.rejects(c.revoke('1', 'NoSuchReason' as never), invalid);
    await assert.rejects(c.locate({ state: 'Sleeping' as never }), invalid);
  } finally {
    c.close();
  }
});

test('a closed client refuses requests', async () => {
  const { ca, cert, key } = await pems();
  const c = new KmipClient({ servers: [{ host: '127.0.0.1', port: 1 }], ca, cert, key });
  c.close();
  await assert.rejects(
    c.activate('1'),
    (e: unknown) => e instanceof KmipClientError && e.code === 'client_closed',
  );
});
