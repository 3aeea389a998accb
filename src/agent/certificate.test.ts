import assert from 'node:assert/strict';
import { mkdtemp, readFile, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { certificateInfo, initCa, issueCertificate } from '../common/pki.js';
import { AgentCertificates, finishCutActivation, type ServedPair } from './certificate.js';

const info = async (dir: string, name: string) => certificateInfo(await readFile(join(dir, `${name}.pem`), 'utf8'));
const gone = (file: string): Promise<boolean> => stat(file).then(
  () => false,
  () => true,
);

describe('agent certificate renewal (files)', () => {
  let dir: string;
  const installed: { fingerprint: string; keyLength: number }[] = [];
  let certs: AgentCertificates;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agent-cert-'));
    await initCa(dir, { commonName: 'agent CA for tests' });
    await issueCertificate(dir, 'server', { kind: 'server', sans: ['127.0.0.1', 'host.example'] }, { commonName: 'cryptvisor-agent-test' });
    certs = new AgentCertificates(dir, (pair: ServedPair) => {
      installed.push({ fingerprint: certificateInfo(pair.cert.toString()).fingerprintSha256, keyLength: pair.key.length });
    });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('renew writes server.next with the same subject and SANs, serving nothing new; renewing again replaces it', async () => {
    const served = await info(dir, 'server');
    const first = await certs.renew(30);
    const again = await certs.renew(undefined);
    assert.notEqual(first.fingerprint, again.fingerprint);
    const next = await info(dir, 'server.next');
    assert.equal(next.fingerprintSha256, again.fingerprint);
    assert.equal(next.subject, served.subject);
    assert.deepEqual(next.sans, served.sans);
    assert.deepEqual(next.eku, served.eku);
    assert.equal(next.issuer, served.issuer);
    assert.equal((await stat(join(dir, 'server.next.key'))).mode & 0o777, 0o600);
    assert.equal((await info(dir, 'server')).fingerprintSha256, served.fingerprintSha256);
    assert.equal(installed.length, 0);
    await assert.rejects(certs.renew(0), { code: 'invalid_request' });
    await assert.rejects(certs.renew(1.5), { code: 'invalid_request' });
  });

  it('activate refuses another fingerprint without a change, takes the next one, and answers again for the served one', async () => {
    const next = await info(dir, 'server.next');
    const before = await Promise.all(['server.pem', 'server.key', 'server.next.pem', 'server.next.key'].map((f) => readFile(join(dir, f))));
    await assert.rejects(certs.activate('00'.repeat(32)), { code: 'invalid_request', message: /waiting for activation has fingerprint/ });
    await assert.rejects(certs.activate('xyz'), { code: 'invalid_request' });
    const after = await Promise.all(['server.pem', 'server.key', 'server.next.pem', 'server.next.key'].map((f) => readFile(join(dir, f))));
    assert.deepEqual(after, before);
    const r = await certs.activate(next.fingerprintSha256.replace(/:/g, '').toLowerCase());
    assert.equal(r.fingerprint, next.fingerprintSha256);
    assert.equal(r.notAfter, next.notAfter);
    assert.equal((await info(dir, 'server')).fingerprintSha256, next.fingerprintSha256);
    assert.ok(await gone(join(dir, 'server.next.pem')));
    assert.ok(await gone(join(dir, 'server.next.key')));
    assert.deepEqual(installed, [{ fingerprint: next.fingerprintSha256, keyLength: installed[0]?.keyLength }]);
    assert.ok((installed[0]?.keyLength ?? 0) > 0);
    assert.deepEqual(await certs.activate(next.fingerprintSha256), r, 'the served one answers the same');
    assert.equal(installed.length, 1, 'no second switch');
    await assert.rejects(certs.activate('00'.repeat(32)), { code: 'invalid_request', message: /no renewed certificate is waiting/ });
  });

  it('a cut activation (next pem without next key) is finished; otherwise nothing is done', async () => {
    assert.equal(await finishCutActivation(dir), false);
    const next = await certs.renew(undefined);
    assert.equal(await finishCutActivation(dir), false, 'a whole next pair waits for activate');
    await rename(join(dir, 'server.next.key'), join(dir, 'server.key'));
    assert.equal(await finishCutActivation(dir), true);
    assert.equal((await info(dir, 'server')).fingerprintSha256, next.fingerprint);
    assert.ok(await gone(join(dir, 'server.next.pem')));
  });
});
