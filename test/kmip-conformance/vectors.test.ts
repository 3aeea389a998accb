/**
 * The in-scope OASIS KMIP vectors (test/vectors/kmip/) against a real KMS over mutual TLS (MSGENC-*
 * over HTTPS in TTLV, JSON and XML). Prints a pass count per profile and version; fails on any
 * failing vector, naming for each the exchange, the operation and the path of every mismatching
 * field. `CRYPTVISOR_VECTORS=SKLC` limits the run to paths containing that text.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestKms, type KmsUnderTest } from './kms-under-test.js';
import { formatFailure, identityName, requiredLists, runVectorFile, summarize, type VectorResult } from './runner.js';
import type { TlsIdentity } from './ttlv-socket.js';
import { loadVectorFiles } from './vector-file.js';

const only = process.env['CRYPTVISOR_VECTORS'];
let kms: KmsUnderTest;

before(async () => {
  kms = await startTestKms();
});

after(async () => {
  await kms?.close();
});

test('OASIS KMIP vectors in scope pass against the KMS', { timeout: 300_000 }, async () => {
  const all = loadVectorFiles();
  const required = requiredLists(all);
  const files = only ? all.filter((f) => f.path.includes(only)) : all;
  assert.ok(files.length > 0, `no vector matches ${only}`);
  const results: VectorResult[] = [];
  const identities = new Map<string, TlsIdentity>();
  for (const file of files) {
    const name = identityName(file);
    const identity = identities.get(name) ?? (await kms.identities.issue(name));
    identities.set(name, identity);
    results.push(await runVectorFile(file, { port: kms.port, identity, required }));
  }
  const { table, passed, total } = summarize(results);
  console.log(`OASIS KMIP vectors: pass count per profile and version\n${table}`);
  const errata = results.filter((r) => (r.errata?.length ?? 0) > 0).map((r) => `${r.file.path} exchange ${r.errata!.join(', ')}`);
  if (errata.length > 0) console.log(`Vector errata corrected (docs/conformance.md):\n${errata.join('\n')}`);
  const failures = results.filter((r) => !r.passed);
  if (failures.length > 0) console.log(`\nFailing vectors:\n${failures.map(formatFailure).join('\n')}`);
  assert.equal(passed, total, `${total - passed} of ${total} vectors fail:\n${failures.map(formatFailure).join('\n')}`);
});
