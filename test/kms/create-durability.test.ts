/**
 * Durable Create, end to end: `cryptvisor kms serve` in its own process answers Creates from 16
 * concurrent mutual-TLS clients and is killed with SIGKILL mid-stream. Every Create that was
 * answered must be in the store afterwards, with its material and its audit record (the record
 * commits in the same transaction as the object, docs/kms.md "Performance").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tag, child, decodeTtlv, encodeTtlv } from '../../src/kmip/index.js';
import { initKms } from '../../src/kms/init.js';
import { RootKey } from '../../src/kms/root-key.js';
import { openStore } from '../../src/kms/store/open.js';
import { Operation, createAesPayload1x, requestMessage, successPayload, textOf } from '../kmip-conformance/messages.js';
import { TtlvSocket, type TlsIdentity } from '../kmip-conformance/ttlv-socket.js';
import { freePort } from '../pykmip/server-harness.js';

const CLI = new URL('../../../bin/cryptvisor.js', import.meta.url).pathname;
const CREATE = encodeTtlv(requestMessage([1, 1], [{ operation: Operation.Create, payload: createAesPayload1x(256) }]));

async function connectWithin(port: number, id: TlsIdentity, ms: number, alive: () => boolean): Promise<TtlvSocket> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (!alive()) throw new Error('kms serve exited before it listened');
    try {
      return await TtlvSocket.open(port, id);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

test('kms serve: every Create answered before a SIGKILL is in the store with its audit record', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cv-kms-durable-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const init = await initKms({ dataDir: dir, sans: ['127.0.0.1', 'localhost'] });
  const [ca, cert, key] = await Promise.all([readFile(init.ca), readFile(init.adminCert), readFile(init.adminKey)]);
  const id: TlsIdentity = { ca, cert, key };
  const port = await freePort();
  const server = spawn(process.execPath, [CLI, 'kms', 'serve', '--data', dir, '--host', '127.0.0.1', '--port', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, CRYPTVISOR_LOG_LEVEL: 'warn' },
  });
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  t.after(() => {
    if (server.exitCode === null) server.kill('SIGKILL');
  });
  const first = await connectWithin(port, id, 30_000, () => server.exitCode === null);
  const socks = [first, ...(await Promise.all(Array.from({ length: 15 }, () => TtlvSocket.open(port, id))))];

  const answered: string[] = [];
  await Promise.all(
    socks.map(async (s) => {
      try {
        for (;;) {
          const reply = decodeTtlv(await s.roundTrip(CREATE, 30_000));
          const uid = textOf(child(successPayload(reply), Tag.UniqueIdentifier));
          assert.ok(uid, 'Create answered with a Unique Identifier');
          answered.push(uid);
          if (answered.length >= 300 && server.exitCode === null && !server.killed) server.kill('SIGKILL');
        }
      } catch (err) {
        // The connection dies with the server; anything before the kill is a failure.
        if (!server.killed) throw err;
      } finally {
        s.close();
      }
    }),
  );
  await exited;
  assert.equal(server.signalCode, 'SIGKILL');
  assert.ok(answered.length >= 300);

  const rootKey = await RootKey.load(dir);
  const store = await openStore({ dataDir: dir, rootKey });
  try {
    const audited = new Set(
      (await store.listAudit({ limit: 1_000_000 })).filter((r) => r.operation === 'Create' && r.result === 'Success').map((r) => r.objectId),
    );
    for (const uid of answered) {
      const obj = await store.get(uid);
      assert.ok(obj, `answered Create ${uid} survived`);
      assert.equal(obj.material?.length, 32);
      assert.ok(audited.has(uid), `the audit record of ${uid} survived`);
    }
  } finally {
    await store.close();
    rootKey.dispose();
  }
});
