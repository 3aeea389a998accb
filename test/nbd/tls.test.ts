/**
 * NBD over TCP: TLS with a client certificate is required. libnbd (nbdinfo, nbdcopy) and QEMU
 * (qemu-img with tls-creds-x509) connect with a certificate from the trusted CA; a client without
 * TLS or with a certificate from another CA is refused, and the server keeps serving.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { needPeers } from '../support/peers.js';
import { KINDS, deviceHash, run, serve, sha256, sha256File, testData, type Served } from './harness.js';

function nbds(s: Served, pki: string | undefined, exportName = ''): string {
  return `nbds://127.0.0.1:${s.port}/${exportName}?tls-certificates=${pki}`;
}

for (const kind of KINDS) {
  test(`libnbd over TLS with a client certificate; without one it is refused (${kind})`, async (t) => {
    if (!needPeers(t, 'nbdinfo', 'nbdcopy')) return;
    const s = await serve(t, kind, { size: 4 * 1024 * 1024, tls: true });
    const info = JSON.parse((await run('nbdinfo', ['--json', nbds(s, s.clientPki, 'disk')])).stdout) as {
      TLS: boolean;
      exports: Array<Record<string, unknown>>;
    };
    assert.equal(info.TLS, true);
    assert.equal(info.exports[0]?.['export-size'], s.size);

    const src = join(s.dir, 'src.bin');
    const data = testData(s.size, 99);
    writeFileSync(src, data);
    await run('nbdcopy', [src, nbds(s, s.clientPki)]);
    assert.equal(await deviceHash(s.device), sha256(data));

    // Plain TCP: every option is answered NBD_REP_ERR_TLS_REQD (checked byte-exactly in malformed.test),
    // so libnbd gives up at NBD_OPT_GO.
    await assert.rejects(run('nbdinfo', [`nbd://127.0.0.1:${s.port}/`]), /opt_go/);
    // Over the Unix socket TLS is optional: both ways work.
    const unixTls = JSON.parse((await run('nbdinfo', ['--json', `nbds+unix:///?socket=${s.socket}&tls-certificates=${s.clientPki}`])).stdout) as { TLS: boolean };
    assert.equal(unixTls.TLS, true);
    const unixPlain = JSON.parse((await run('nbdinfo', ['--json', s.uri])).stdout) as { TLS: boolean };
    assert.equal(unixPlain.TLS, false);
    // A certificate from a CA the server does not trust.
    await assert.rejects(run('nbdinfo', [nbds(s, s.roguePki)]));
    // The server still serves the legitimate client.
    const back = join(s.dir, 'back.bin');
    await run('nbdcopy', [nbds(s, s.clientPki), back]);
    assert.equal(sha256File(back), sha256(data));
  });

  test(`qemu-img info and convert over nbd:// with tls-creds-x509 (${kind})`, async (t) => {
    if (!needPeers(t, 'qemu-img')) return;
    const s = await serve(t, kind, { size: 4 * 1024 * 1024, tls: true });
    const creds = `tls-creds-x509,id=tls0,endpoint=client,dir=${s.clientPki}`;
    const target = `driver=nbd,host=127.0.0.1,port=${s.port},export=disk,tls-creds=tls0`;
    const info = JSON.parse((await run('qemu-img', ['info', '--output=json', '--object', creds, '--image-opts', target])).stdout) as Record<
      string,
      unknown
    >;
    assert.equal(info['virtual-size'], s.size);
    const src = join(s.dir, 'src.raw');
    const data = testData(s.size, 5);
    writeFileSync(src, data);
    await run('qemu-img', ['convert', '--object', creds, '-n', '-f', 'raw', '--target-image-opts', src, target]);
    assert.equal(await deviceHash(s.device), sha256(data));
    const out = join(s.dir, 'out.raw');
    await run('qemu-img', ['convert', '--object', creds, '--image-opts', target, '-O', 'raw', out]);
    assert.equal(sha256File(out), sha256(data));
  });
}
