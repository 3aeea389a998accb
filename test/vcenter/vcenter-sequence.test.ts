/**
 * The request sequence VMware vCenter sends a KMS when it creates a key for VM encryption, at KMIP
 * 1.1 with 8-byte Unique Batch Item IDs, built with the codec by hand and sent as bytes over mutual
 * TLS on one connection (issue 2): DiscoverVersions; Query (Server Information); Create (AES-256,
 * mask Encrypt|Decrypt, no Name); GetAttributes (x-Product_Version); one batch of three
 * AddAttribute (x-Product_Version, x-Vendor, x-Product); Activate; Get. Every response is checked.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CryptographicAlgorithm,
  KeyFormatType,
  ObjectType,
  Operation,
  QueryFunction,
  ResultStatus,
  Tag,
  child,
  children,
  decodeTtlv,
  encodeTtlv,
  enumItem,
  text,
} from '../../src/kmip/index.js';
import type { TtlvItem } from '../../src/kmip/index.js';
import { attribute1x, createAesPayload1x, requestMessage, responseItems, textOf, uidPayload } from '../kmip-conformance/messages.js';
import type { BatchItemSpec } from '../kmip-conformance/messages.js';
import { startTestKms, type KmsUnderTest } from '../kmip-conformance/kms-under-test.js';
import { TtlvSocket } from '../kmip-conformance/ttlv-socket.js';

const V11 = [1, 1] as const;
let counter = 0x1000;
/** vCenter's batch item IDs are 8 bytes. */
function batchId(): Uint8Array {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(counter++) | 0x5643000000000000n);
  return b;
}

let kms: KmsUnderTest;
let sock: TtlvSocket;

before(async () => {
  kms = await startTestKms();
  sock = await TtlvSocket.open(kms.port, await kms.identities.issue('vcenter-sequence'));
});

after(async () => {
  sock?.close();
  await kms?.close();
});

/** Sends a batch; checks the header (version 1.1, BatchCount) and that every item succeeded and echoes its ID. */
async function exchange(items: BatchItemSpec[]): Promise<TtlvItem[]> {
  const wire = encodeTtlv(requestMessage(V11, items));
  const reply = decodeTtlv(await sock.roundTrip(wire));
  assert.equal(reply.tag, Tag.ResponseMessage);
  const header = child(reply, Tag.ResponseHeader);
  assert.ok(header && header.type === 'Structure');
  const pv = child(header, Tag.ProtocolVersion);
  assert.ok(pv);
  assert.deepEqual(
    [child(pv, Tag.ProtocolVersionMajor)?.value, child(pv, Tag.ProtocolVersionMinor)?.value],
    [1, 1],
    'the response is not at KMIP 1.1',
  );
  assert.equal(child(header, Tag.TimeStamp)?.type, 'DateTime');
  assert.equal(child(header, Tag.BatchCount)?.value, items.length);
  // PyKMIP and vCenter-era clients reject extra header fields.
  assert.deepEqual(
    header.value.map((c) => c.tag),
    [Tag.ProtocolVersion, Tag.TimeStamp, Tag.BatchCount],
  );
  const got = responseItems(reply);
  assert.equal(got.length, items.length);
  return got.map((it, i) => {
    assert.equal(it.operation, items[i]!.operation, `item ${i}: operation`);
    assert.equal(it.status, ResultStatus.Success, `item ${i} failed with reason ${it.reason}`);
    assert.deepEqual(it.id && Buffer.from(it.id), Buffer.from(items[i]!.id!), `item ${i}: Unique Batch Item ID not echoed`);
    assert.ok(it.payload, `item ${i}: no payload`);
    return it.payload;
  });
}

test('the vCenter key-creation sequence at KMIP 1.1 with 8-byte batch item IDs', async (t) => {
  let uid = '';

  await t.test('DiscoverVersions lists 1.1', async () => {
    const [p] = await exchange([{ operation: Operation.DiscoverVersions, payload: [], id: batchId() }]);
    const versions = children(p!, Tag.ProtocolVersion).map((v) => `${child(v, Tag.ProtocolVersionMajor)?.value}.${child(v, Tag.ProtocolVersionMinor)?.value}`);
    assert.ok(versions.includes('1.1'), `versions: ${versions.join(', ')}`);
  });

  await t.test('Query (Server Information) names the vendor', async () => {
    const [p] = await exchange([
      { operation: Operation.Query, payload: [enumItem(Tag.QueryFunction, QueryFunction.QueryServerInformation)], id: batchId() },
    ]);
    const vendor = textOf(child(p!, Tag.VendorIdentification));
    assert.ok(vendor && vendor.length > 0, 'no VendorIdentification');
  });

  await t.test('Create AES-256, Encrypt|Decrypt, no Name', async () => {
    const [p] = await exchange([{ operation: Operation.Create, payload: createAesPayload1x(256), id: batchId() }]);
    assert.equal(child(p!, Tag.ObjectType)?.value, ObjectType.SymmetricKey);
    uid = textOf(child(p!, Tag.UniqueIdentifier)) ?? '';
    assert.ok(uid.length > 0, 'no Unique Identifier');
  });

  await t.test('GetAttributes x-Product_Version (not set yet)', async () => {
    const [p] = await exchange([
      { operation: Operation.GetAttributes, payload: [...uidPayload(uid), text(Tag.AttributeName, 'x-Product_Version')], id: batchId() },
    ]);
    assert.equal(textOf(child(p!, Tag.UniqueIdentifier)), uid);
    assert.deepEqual(children(p!, Tag.Attribute), [], 'an attribute that was never set came back');
  });

  const custom: [string, string][] = [
    ['x-Product_Version', '8.0.2'],
    ['x-Vendor', 'VMware, Inc.'],
    ['x-Product', 'VMware vSphere'],
  ];

  await t.test('one batch of three AddAttribute', async () => {
    const payloads = await exchange(
      custom.map(([name, value]) => ({
        operation: Operation.AddAttribute,
        payload: [...uidPayload(uid), attribute1x(name, text(0, value))],
        id: batchId(),
      })),
    );
    payloads.forEach((p, i) => {
      assert.equal(textOf(child(p, Tag.UniqueIdentifier)), uid);
      const a = child(p, Tag.Attribute);
      assert.ok(a, `AddAttribute ${i}: no Attribute in the response`);
      assert.equal(textOf(child(a, Tag.AttributeName)), custom[i]![0]);
      assert.equal(textOf(child(a, Tag.AttributeValue)), custom[i]![1]);
    });
  });

  await t.test('GetAttributes returns the three custom attributes', async () => {
    const [p] = await exchange([
      { operation: Operation.GetAttributes, payload: [...uidPayload(uid), ...custom.map(([n]) => text(Tag.AttributeName, n))], id: batchId() },
    ]);
    const got = new Map(children(p!, Tag.Attribute).map((a) => [textOf(child(a, Tag.AttributeName)), textOf(child(a, Tag.AttributeValue))]));
    for (const [n, v] of custom) assert.equal(got.get(n), v, n);
  });

  await t.test('Activate', async () => {
    const [p] = await exchange([{ operation: Operation.Activate, payload: uidPayload(uid), id: batchId() }]);
    assert.equal(textOf(child(p!, Tag.UniqueIdentifier)), uid);
  });

  await t.test('Get returns the 256-bit AES key in Raw format', async () => {
    const [p] = await exchange([{ operation: Operation.Get, payload: uidPayload(uid), id: batchId() }]);
    assert.equal(child(p!, Tag.ObjectType)?.value, ObjectType.SymmetricKey);
    assert.equal(textOf(child(p!, Tag.UniqueIdentifier)), uid);
    const block = child(child(p!, Tag.SymmetricKey)!, Tag.KeyBlock);
    assert.ok(block, 'no KeyBlock');
    assert.equal(child(block, Tag.KeyFormatType)?.value, KeyFormatType.Raw);
    assert.equal(child(block, Tag.CryptographicAlgorithm)?.value, CryptographicAlgorithm.AES);
    assert.equal(child(block, Tag.CryptographicLength)?.value, 256);
    const material = child(child(block, Tag.KeyValue)!, Tag.KeyMaterial);
    assert.ok(material && material.type === 'ByteString');
    assert.equal(material.value.length, 32);
    assert.ok(material.value.some((b) => b !== 0), 'all-zero key material');
  });
});
