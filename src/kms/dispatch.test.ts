import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tag, child, decodeTtlv, encodeTtlv, enumItem, int, struct } from '../kmip/index.js';
import { ALICE, aesCreate, batchResults, en, request, startTestService, uid, uidOf } from './test-harness.js';

test('dispatch: the response header is exactly ProtocolVersion (the client\'s), TimeStamp, BatchCount', async (t) => {
  const kms = await startTestService(t);
  for (const v of ['1.1', '1.4', '2.0', '2.1']) {
    const res = await kms.send(request(v, [{ operation: 'DiscoverVersions', payload: [] }]));
    const header = child(res, Tag.ResponseHeader);
    assert.ok(header && header.type === 'Structure');
    assert.deepEqual(header.value.map((c) => c.tag), [Tag.ProtocolVersion, Tag.TimeStamp, Tag.BatchCount]);
    const pv = child(header, Tag.ProtocolVersion);
    const minor = pv ? child(pv, Tag.ProtocolVersionMinor) : undefined;
    assert.equal(minor?.value, Number(v.split('.')[1]));
  }
});

test('dispatch: Unique Batch Item IDs are echoed and the ID Placeholder chains Create → Activate → Get', async (t) => {
  const kms = await startTestService(t);
  const ids = [Buffer.from('0102030405060708', 'hex'), Buffer.from('a1a2a3a4a5a6a7a8', 'hex'), Buffer.from('ff', 'hex')];
  const res = await kms.send(
    request('1.1', [
      { operation: 'Create', payload: aesCreate(), id: ids[0] },
      { operation: 'Activate', payload: [], id: ids[1] },
      { operation: 'Get', payload: [], id: ids[2] },
    ]),
  );
  const items = batchResults(res);
  assert.deepEqual(items.map((i) => i.status), ['Success', 'Success', 'Success']);
  items.forEach((it, i) => assert.deepEqual(Buffer.from(child(it.item, Tag.UniqueBatchItemID)?.value as Uint8Array), ids[i]));
  const key = child(items[2]?.payload as never, Tag.SymmetricKey);
  assert.ok(key, 'Get returned the key');
});

test('dispatch: Batch Error Continuation Stop, Continue and Undo', async (t) => {
  const kms = await startTestService(t);
  const created = uidOf(await kms.op('1.4', 'Create', aesCreate()));
  const items = (cont: string) =>
    request(
      '1.4',
      [
        { operation: 'Activate', payload: [uid(created)] },
        { operation: 'Get', payload: [uid('no-such-object')] },
        { operation: 'GetAttributes', payload: [uid(created)] },
      ],
      [en(Tag.BatchErrorContinuationOption, cont)],
    );
  const undo = batchResults(await kms.send(items('Undo')));
  assert.deepEqual(undo.map((i) => i.status), ['OperationUndone', 'OperationFailed']);
  const state = await kms.store.get(created);
  assert.equal(state?.state, 'PreActive', 'the Activate was undone');
  const stop = batchResults(await kms.send(items('Stop')));
  assert.deepEqual(stop.map((i) => i.status), ['Success', 'OperationFailed']);
  assert.equal(stop[1]?.reason, 'ItemNotFound');
  const cont = batchResults(await kms.send(items('Continue')));
  assert.deepEqual(cont.map((i) => i.status), ['OperationFailed', 'OperationFailed', 'Success']);
});

test('dispatch: unsupported operations, malformed messages and wrong types get KMIP errors', async (t) => {
  const kms = await startTestService(t);
  const unsupported = await kms.op('1.2', 'Encrypt', []);
  assert.equal(unsupported.status, 'OperationFailed');
  assert.equal(unsupported.reason, 'OperationNotSupported');

  const cases: Array<[string, Uint8Array]> = [
    ['garbage', Buffer.from('this is not a KMIP message at all!', 'utf8')],
    ['truncated', encodeTtlv(request('1.2', [{ operation: 'Query', payload: [] }])).subarray(0, 40)],
    ['not a request', encodeTtlv(struct(Tag.ResponseMessage, []))],
    ['no header', encodeTtlv(struct(Tag.RequestMessage, [struct(Tag.BatchItem, [])]))],
    [
      'batch count mismatch',
      encodeTtlv(
        struct(Tag.RequestMessage, [
          struct(Tag.RequestHeader, [struct(Tag.ProtocolVersion, [int(Tag.ProtocolVersionMajor, 1), int(Tag.ProtocolVersionMinor, 2)]), int(Tag.BatchCount, 3)]),
          struct(Tag.BatchItem, [enumItem(Tag.Operation, 0x18), struct(Tag.RequestPayload, [])]),
        ]),
      ),
    ],
    [
      'unknown tag in the message',
      encodeTtlv(
        struct(Tag.RequestMessage, [
          struct(Tag.RequestHeader, [struct(Tag.ProtocolVersion, [int(Tag.ProtocolVersionMajor, 1), int(Tag.ProtocolVersionMinor, 2)]), int(Tag.BatchCount, 1)]),
          struct(0x54ffff, []),
        ]),
      ),
    ],
  ];
  for (const [name, bytesIn] of cases) {
    const res = decodeTtlv(await kms.service.handleBytes(bytesIn, ALICE));
    const [item] = batchResults(res);
    assert.equal(item?.status, 'OperationFailed', name);
    assert.ok(item?.reason === 'InvalidMessage' || item?.reason === 'InvalidField', `${name}: ${item?.reason}`);
  }
  // Wrong type for a field inside a payload: that item fails with Invalid Field.
  const wrong = await kms.op('1.2', 'Get', [int(Tag.UniqueIdentifier, 5)]);
  assert.equal(wrong.reason, 'InvalidField');
  // Operation after the payload: wrong order.
  const misordered = struct(Tag.RequestMessage, [
    struct(Tag.RequestHeader, [struct(Tag.ProtocolVersion, [int(Tag.ProtocolVersionMajor, 1), int(Tag.ProtocolVersionMinor, 2)]), int(Tag.BatchCount, 1)]),
    struct(Tag.BatchItem, [struct(Tag.RequestPayload, []), enumItem(Tag.Operation, 0x18)]),
  ]);
  const [m] = batchResults(await kms.send(misordered));
  assert.equal(m?.reason, 'InvalidMessage');
  // The service still answers afterwards.
  assert.equal((await kms.op('1.2', 'DiscoverVersions', [])).status, 'Success');
});

test('dispatch: Maximum Response Size turns a large answer into Response Too Large', async (t) => {
  const kms = await startTestService(t);
  const res = await kms.send(
    request('1.2', [{ operation: 'Query', payload: [en(Tag.QueryFunction, 'QueryOperations'), en(Tag.QueryFunction, 'QueryObjects')] }], [int(Tag.MaximumResponseSize, 64)]),
  );
  assert.equal(batchResults(res)[0]?.reason, 'ResponseTooLarge');
});

test('dispatch: every item is audited; durable operations are flushed before the answer', async (t) => {
  const kms = await startTestService(t);
  const id = uidOf(await kms.op('1.2', 'Create', aesCreate()));
  await kms.op('1.2', 'Get', [uid(id)]);
  const stored = await kms.store.listAudit();
  assert.ok(stored.some((r) => r.operation === 'Create' && r.objectId === id && r.result === 'Success'), 'the Create record is durable');
  await kms.audit.flush();
  const all = await kms.store.listAudit();
  assert.ok(all.some((r) => r.operation === 'Get' && r.objectId === id));
  for (const r of all) assert.ok(!JSON.stringify(r).match(/[0-9a-f]{64}/), 'no key material in audit');
});

test('dispatch: a durable operation\'s record commits with its write, once; its failure is flushed before the answer', async (t) => {
  const kms = await startTestService(t);
  const id = uidOf(await kms.op('1.4', 'Create', aesCreate()));
  await kms.op('1.4', 'Activate', [uid(id)]);
  await kms.op('1.4', 'Revoke', [uid(id), struct(Tag.RevocationReason, [en(Tag.RevocationReasonCode, 'CessationOfOperation')])]);
  const missing = await kms.op('1.4', 'Destroy', [uid('no-such-object')]);
  assert.equal(missing.status, 'OperationFailed');
  // No audit.flush() here: what the answers promised must already be in the store.
  const durable = (await kms.store.listAudit()).map((r) => `${r.operation} ${r.result} ${r.objectId ?? '-'}`);
  assert.equal(durable.filter((r) => r === `Create Success ${id}`).length, 1, 'exactly one Create record');
  assert.equal(durable.filter((r) => r === `Revoke Success ${id}`).length, 1, 'exactly one Revoke record');
  assert.ok(durable.some((r) => r.startsWith('Destroy OperationFailed')), 'the failed Destroy is durable');
  // Activate is not a durable operation: its record may still be buffered, and lands once.
  await kms.audit.flush();
  const all = (await kms.store.listAudit()).map((r) => `${r.operation} ${r.result}`);
  assert.equal(all.filter((r) => r === 'Activate Success').length, 1);
  assert.equal(all.length, 4);
});
