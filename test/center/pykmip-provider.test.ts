/**
 * PyKMIP's server (Debian's pykmip-server, a real process) as center's default key provider: an
 * encrypted VM gets its KEK there, an agent restart locks it and one heartbeat unlocks it (one Get
 * per distinct key); center's client certificate toward PyKMIP is renewed with the same subject
 * and the KEK made before stays Gettable (PyKMIP's object ownership follows the certificate's
 * subject); key status reads the key's State there.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KeyStatus } from '../../src/center/key-status.js';
import { havePeer, needPeers } from '../support/peers.js';
import { startPykmipServer, type PykmipServer } from '../pykmip/server-harness.js';
import { ADMIN_PASSWORD, cv, startTestStack, type TestStack } from './harness.js';
import { addTrustedProvider, createVm, enrollHost } from './ops-helpers.js';

describe('PyKMIP server as the key provider', () => {
  let s: TestStack | undefined;
  let py: PykmipServer | undefined;
  let keyId = '';
  let ready = false;

  before(async () => {
    if (!havePeer('/usr/bin/pykmip-server') || !havePeer('py:kmip')) return;
    s = await startTestStack({ heartbeatSeconds: 3600 });
    py = await startPykmipServer();
    const admin = s.admin;
    await addTrustedProvider(admin, 'pykmip', `${py.host}:${py.port}`, py.pki.ca, py.pki.dir);
    await enrollHost(s);
    const c = s.center;
    const login = await cv(['login', c.running.url, '--user', 'admin', '--ca', c.init.ca, '--password-stdin'], {
      env: c.env,
      input: ADMIN_PASSWORD,
    });
    assert.equal(login.status, 0, login.stderr);
    ready = true;
  });
  after(async () => {
    await s?.close();
    await py?.stop();
  });

  it('an encrypted VM gets its KEK from PyKMIP; agent restart → locked → one heartbeat → unlocked', async (t) => {
    if (!needPeers(t, '/usr/bin/pykmip-server', 'py:kmip') || !s || !ready) return;
    const vm = await createVm(s.admin, 'vm-py', 'host-1');
    assert.equal(vm.keyProviderId, 'pykmip');
    assert.ok(vm.keyId);
    keyId = vm.keyId;
    const host = await s.admin.call<{ hostKeyProviderId: string; state: string }>('GET', '/api/v1/hosts/host-1');
    assert.equal(host.hostKeyProviderId, 'pykmip');
    assert.equal(host.state, 'safe');
    await s.restartAgent();
    assert.equal((await s.admin.call<{ cryptoState: string }>('GET', '/api/v1/vms/vm-py')).cryptoState, 'locked');
    const gets = s.center.running.metrics.kmipCount('get');
    const hb = await s.admin.call<{ error: string | null; keysPushed: number }>('POST', '/api/v1/hosts/host-1/heartbeat');
    assert.equal(hb.error, null, await py!.log());
    assert.equal(hb.keysPushed, 1);
    assert.equal(s.center.running.metrics.kmipCount('get') - gets, 2, 'host key and KEK, one Get each');
    assert.equal((await s.admin.call<{ cryptoState: string }>('GET', '/api/v1/vms/vm-py')).cryptoState, 'unlocked');
  });

  it('key status reads the State at PyKMIP; renewal keeps the subject and the KEK made before stays Gettable', async (t) => {
    if (!needPeers(t, '/usr/bin/pykmip-server', 'py:kmip') || !s || !keyId) return;
    const env = s.center.env;
    const st = (await cv(['key', 'status', keyId, '--json'], { env })).json<KeyStatus>();
    assert.equal(st.available, true);
    assert.deepEqual(
      st.providers.map((p) => [p.provider, p.state]),
      [['pykmip', 'Active']],
    );
    assert.deepEqual(
      st.vms.map((v) => v.name),
      ['vm-py'],
    );
    const renew = await cv(['provider', 'renew-cert', 'pykmip', '--kms-pki', py!.pki.dir, '--json'], { env });
    assert.equal(renew.status, 0, renew.stderr + renew.stdout);
    assert.equal(renew.json<{ subject: string }>().subject, 'CN=center-client');
    await s.restartAgent();
    const hb = await s.admin.call<{ error: string | null }>('POST', '/api/v1/hosts/host-1/heartbeat');
    assert.equal(hb.error, null, 'the renewed identity Gets the KEK made before');
    assert.equal((await s.admin.call<{ cryptoState: string }>('GET', '/api/v1/vms/vm-py')).cryptoState, 'unlocked');
  });
});
