import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Tag, bool, bytes, child, children, dateTime, decodeTtlv, encodeTtlv, enumItem, int, struct, text, type TtlvItem } from '../../kmip/index.js';
import { initCa } from '../../common/pki.js';
import { unwrapKey } from '../key-wrap.js';
import { ADMIN, BOB, aesCreate, attr1, en, startTestService, template, uid, uidOf, type BatchResult } from '../test-harness.js';

function keyMaterial(r: BatchResult): Buffer {
  const key = child(r.payload as TtlvItem, Tag.SymmetricKey) ?? child(r.payload as TtlvItem, Tag.SecretData);
  const block = key ? child(key, Tag.KeyBlock) : undefined;
  const value = block ? child(block, Tag.KeyValue) : undefined;
  if (value?.type === 'ByteString') return Buffer.from(value.value);
  const km = value ? child(value, Tag.KeyMaterial) : undefined;
  if (!km) throw new Error('no key material');
  if (km.type === 'ByteString') return Buffer.from(km.value);
  const k = child(km, Tag.Key);
  return Buffer.from(k?.value as Uint8Array);
}

function attrNames1x(r: BatchResult): string[] {
  return children(r.payload as TtlvItem, Tag.Attribute).map((a) => String(child(a, Tag.AttributeName)?.value));
}

function stateOf1x(r: BatchResult): number | undefined {
  const a = children(r.payload as TtlvItem, Tag.Attribute).find((x) => child(x, Tag.AttributeName)?.value === 'State');
  return a ? (child(a, Tag.AttributeValue)?.value as number) : undefined;
}

test('create: AES 128/192/256, Triple-DES, SKIPJACK and Secret Data; bad lengths refused', async (t) => {
  const kms = await startTestService(t);
  for (const bits of [128, 192, 256]) {
    const id = uidOf(await kms.op('1.2', 'Create', aesCreate(bits)));
    const got = await kms.op('1.2', 'Get', [uid(id)]);
    assert.equal(keyMaterial(got).length, bits / 8);
  }
  const des = await kms.op('1.2', 'Create', [
    en(Tag.ObjectType, 'SymmetricKey'),
    template(attr1('Cryptographic Algorithm', en(Tag.CryptographicAlgorithm, 'DES3')), attr1('Cryptographic Length', int(Tag.CryptographicLength, 168))),
  ]);
  assert.equal(des.status, 'Success');
  const sj = await kms.op('1.2', 'Create', [
    en(Tag.ObjectType, 'SymmetricKey'),
    template(attr1('Cryptographic Algorithm', en(Tag.CryptographicAlgorithm, 'SKIPJACK')), attr1('Cryptographic Length', int(Tag.CryptographicLength, 80))),
  ]);
  assert.equal(sj.status, 'Success');
  const sd = await kms.op('1.4', 'Create', [en(Tag.ObjectType, 'SecretData'), template(attr1('Cryptographic Length', int(Tag.CryptographicLength, 80)))]);
  const sdGet = await kms.op('1.4', 'Get', [uid(uidOf(sd))]);
  assert.equal(keyMaterial(sdGet).length, 10);
  const bad = await kms.op('1.2', 'Create', aesCreate(100));
  assert.equal(bad.reason, 'InvalidField');
  const noAlg = await kms.op('1.2', 'Create', [en(Tag.ObjectType, 'SymmetricKey'), template()]);
  assert.equal(noAlg.status, 'OperationFailed');
});

test('lifecycle through the operations: activate, revoke, destroy, with dates and reasons', async (t) => {
  const kms = await startTestService(t);
  const id = uidOf(await kms.op('1.4', 'Create', aesCreate()));
  const attrs = await kms.op('1.4', 'GetAttributes', [uid(id), text(Tag.AttributeName, 'State'), text(Tag.AttributeName, 'Initial Date')]);
  assert.deepEqual(attrNames1x(attrs), ['State', 'Initial Date']);
  assert.equal(stateOf1x(attrs), 1, 'PreActive');
  assert.equal((await kms.op('1.4', 'Activate', [uid(id)])).status, 'Success');
  assert.equal((await kms.op('1.4', 'Activate', [uid(id)])).reason, 'PermissionDenied', 'activating twice');
  assert.equal((await kms.op('1.4', 'Destroy', [uid(id)])).reason, 'PermissionDenied', 'destroying an Active key, 1.x');
  const id21 = uidOf(await kms.op('2.1', 'Create', aesCreate()));
  await kms.op('2.1', 'Activate', [uid(id21)]);
  assert.equal((await kms.op('2.1', 'Destroy', [uid(id21)])).reason, 'WrongKeyLifecycleState', 'destroying an Active key, 2.1');
  const revoke = await kms.op('1.4', 'Revoke', [uid(id), struct(Tag.RevocationReason, [en(Tag.RevocationReasonCode, 'CessationOfOperation')])]);
  assert.equal(revoke.status, 'Success');
  assert.equal((await kms.store.get(id))?.state, 'Deactivated');
  assert.equal((await kms.op('1.4', 'Get', [uid(id)])).status, 'Success', 'a Deactivated key can still be read');
  assert.equal((await kms.op('1.4', 'Destroy', [uid(id)])).status, 'Success');
  const destroyed = await kms.store.get(id);
  assert.equal(destroyed?.state, 'Destroyed');
  assert.equal(destroyed?.material, null, 'material removed');
  const after = await kms.op('1.4', 'GetAttributes', [uid(id), text(Tag.AttributeName, 'Destroy Date'), text(Tag.AttributeName, 'Deactivation Date')]);
  assert.deepEqual(attrNames1x(after), ['Destroy Date', 'Deactivation Date']);
  assert.equal((await kms.op('1.4', 'Get', [uid(id)])).status, 'OperationFailed');
  const comp = await kms.op('1.4', 'Revoke', [
    uid(id),
    struct(Tag.RevocationReason, [en(Tag.RevocationReasonCode, 'KeyCompromise')]),
    dateTime(Tag.CompromiseOccurrenceDate, 6n),
  ]);
  assert.equal(comp.status, 'Success');
  assert.equal((await kms.store.get(id))?.state, 'DestroyedCompromised');
  // An activation date in the past at creation makes the key Active at once.
  const early = uidOf(await kms.op('1.4', 'Create', aesCreate(256, [attr1('Activation Date', dateTime(Tag.ActivationDate, 1000n))])));
  assert.equal((await kms.store.get(early))?.state, 'Active');
});

test('ownership: objects belong to their creator; the admin sees all; others get Item Not Found', async (t) => {
  const kms = await startTestService(t);
  const id = uidOf(await kms.op('1.2', 'Create', aesCreate()));
  assert.equal((await kms.op('1.2', 'Get', [uid(id)], BOB)).reason, 'ItemNotFound');
  assert.equal((await kms.op('1.2', 'Destroy', [uid(id)], BOB)).reason, 'ItemNotFound');
  assert.equal((await kms.op('1.2', 'Get', [uid(id)], ADMIN)).status, 'Success');
  const located = await kms.op('1.2', 'Locate', [], BOB);
  assert.equal(children(located.payload as TtlvItem, Tag.UniqueIdentifier).length, 0);
  const all = await kms.op('1.2', 'Locate', [], ADMIN);
  assert.equal(children(all.payload as TtlvItem, Tag.UniqueIdentifier).length, 1);
});

test('get: Raw and Transparent Symmetric Key; NIST key wrap under another key; Sensitive and Extractable', async (t) => {
  const kms = await startTestService(t);
  const id = uidOf(await kms.op('1.4', 'Create', aesCreate(256)));
  const raw = keyMaterial(await kms.op('1.4', 'Get', [uid(id), en(Tag.KeyFormatType, 'Raw')]));
  const transparent = keyMaterial(await kms.op('1.4', 'Get', [uid(id), en(Tag.KeyFormatType, 'TransparentSymmetricKey')]));
  assert.deepEqual(raw, transparent);
  assert.equal((await kms.op('1.4', 'Get', [uid(id), en(Tag.KeyFormatType, 'PKCS_8')])).reason, 'KeyFormatTypeNotSupported');
  const kek = uidOf(await kms.op('1.4', 'Create', aesCreate(128)));
  const kekBytes = keyMaterial(await kms.op('1.4', 'Get', [uid(kek)]));
  const spec = struct(Tag.KeyWrappingSpecification, [
    en(Tag.WrappingMethod, 'Encrypt'),
    struct(Tag.EncryptionKeyInformation, [uid(kek), struct(Tag.CryptographicParameters, [en(Tag.BlockCipherMode, 'NISTKeyWrap')])]),
    en(Tag.EncodingOption, 'NoEncoding'),
  ]);
  const wrapped = await kms.op('1.4', 'Get', [uid(id), spec]);
  assert.equal(wrapped.status, 'Success');
  const block = child(child(wrapped.payload as TtlvItem, Tag.SymmetricKey) as TtlvItem, Tag.KeyBlock) as TtlvItem;
  assert.ok(child(block, Tag.KeyWrappingData), 'Key Wrapping Data present');
  assert.deepEqual(unwrapKey(kekBytes, keyMaterial(wrapped), false), raw);
  // TTLV Encoding (the default): the wrapped bytes are the encoded Key Value.
  const ttlvSpec = struct(Tag.KeyWrappingSpecification, (spec.value as TtlvItem[]).slice(0, 2));
  const wrappedTtlv = await kms.op('1.4', 'Get', [uid(id), ttlvSpec]);
  const kv = decodeTtlv(unwrapKey(kekBytes, keyMaterial(wrappedTtlv), false));
  assert.deepEqual(Buffer.from(child(kv, Tag.KeyMaterial)?.value as Uint8Array), raw);

  const sensitive = uidOf(await kms.op('1.4', 'Create', aesCreate(256, [attr1('Sensitive', bool(Tag.Sensitive, true))])));
  assert.equal((await kms.op('1.4', 'Get', [uid(sensitive)])).reason, 'Sensitive');
  assert.equal((await kms.op('1.4', 'Get', [uid(sensitive), spec])).status, 'Success');
  const locked = uidOf(await kms.op('1.4', 'Create', aesCreate(256, [attr1('Extractable', bool(Tag.Extractable, false))])));
  assert.equal((await kms.op('1.4', 'Get', [uid(locked), spec])).reason, 'NotExtractable');
});

test('register: symmetric key, secret data, opaque object, a wrapped key and a certificate, as stored', async (t) => {
  const kms = await startTestService(t);
  const kek = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
  const keyBlock = (material: Uint8Array, extra: TtlvItem[] = []) =>
    struct(Tag.KeyBlock, [en(Tag.KeyFormatType, 'Raw'), struct(Tag.KeyValue, [bytes(Tag.KeyMaterial, material)]), en(Tag.CryptographicAlgorithm, 'AES'), int(Tag.CryptographicLength, material.length * 8), ...extra]);
  const kekId = uidOf(
    await kms.op('1.4', 'Register', [en(Tag.ObjectType, 'SymmetricKey'), template(attr1('Cryptographic Usage Mask', int(Tag.CryptographicUsageMask, 0x30))), struct(Tag.SymmetricKey, [keyBlock(kek)])]),
  );
  assert.deepEqual(keyMaterial(await kms.op('1.4', 'Get', [uid(kekId)])), kek);
  // RFC 3394 §4.1's wrapped key, registered wrapped under the key above.
  const wrappedBytes = Buffer.from('1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5', 'hex');
  const wrappingData = struct(Tag.KeyWrappingData, [
    en(Tag.WrappingMethod, 'Encrypt'),
    struct(Tag.EncryptionKeyInformation, [uid(kekId), struct(Tag.CryptographicParameters, [en(Tag.BlockCipherMode, 'NISTKeyWrap')])]),
    en(Tag.EncodingOption, 'NoEncoding'),
  ]);
  const wrappedId = uidOf(
    await kms.op('1.4', 'Register', [
      en(Tag.ObjectType, 'SymmetricKey'),
      template(),
      struct(Tag.SymmetricKey, [struct(Tag.KeyBlock, [en(Tag.KeyFormatType, 'Raw'), struct(Tag.KeyValue, [bytes(Tag.KeyMaterial, wrappedBytes)]), en(Tag.CryptographicAlgorithm, 'AES'), int(Tag.CryptographicLength, 128), wrappingData])]),
    ]),
  );
  const asRegistered = await kms.op('1.4', 'Get', [uid(wrappedId), en(Tag.KeyWrapType, 'AsRegistered')]);
  assert.deepEqual(keyMaterial(asRegistered), wrappedBytes);
  const unwrapped = await kms.op('1.4', 'Get', [uid(wrappedId), en(Tag.KeyWrapType, 'NotWrapped')]);
  assert.equal(keyMaterial(unwrapped).toString('hex'), '00112233445566778899aabbccddeeff');

  const sd = uidOf(
    await kms.op('1.2', 'Register', [
      en(Tag.ObjectType, 'SecretData'),
      template(),
      struct(Tag.SecretData, [en(Tag.SecretDataType, 'Password'), struct(Tag.KeyBlock, [en(Tag.KeyFormatType, 'Opaque'), struct(Tag.KeyValue, [bytes(Tag.KeyMaterial, Buffer.from('secret'))])])]),
    ]),
  );
  assert.equal(keyMaterial(await kms.op('1.2', 'Get', [uid(sd)])).toString(), 'secret');
  const opaque = uidOf(
    await kms.op('1.2', 'Register', [en(Tag.ObjectType, 'OpaqueObject'), template(), struct(Tag.OpaqueObject, [enumItem(Tag.OpaqueDataType, 0x80000000), bytes(Tag.OpaqueDataValue, Buffer.from('blob'))])]),
  );
  const got = await kms.op('1.2', 'Get', [uid(opaque)]);
  assert.equal(Buffer.from(child(child(got.payload as TtlvItem, Tag.OpaqueObject) as TtlvItem, Tag.OpaqueDataValue)?.value as Uint8Array).toString(), 'blob');
  const der = await testCertificateDer(t, 'register test');
  const certBody = struct(Tag.Certificate, [en(Tag.CertificateType, 'X_509'), bytes(Tag.CertificateValue, der)]);
  const cert = uidOf(await kms.op('1.2', 'Register', [en(Tag.ObjectType, 'Certificate'), template(), certBody]));
  const certGot = await kms.op('1.2', 'Get', [uid(cert)]);
  assert.deepEqual(encodeTtlv(child(certGot.payload as TtlvItem, Tag.Certificate) as TtlvItem), encodeTtlv(certBody));
  const notX509 = struct(Tag.Certificate, [en(Tag.CertificateType, 'X_509'), bytes(Tag.CertificateValue, Buffer.from('3082', 'hex'))]);
  assert.equal((await kms.op('1.2', 'Register', [en(Tag.ObjectType, 'Certificate'), template(), notX509])).reason, 'InvalidField');
});

/** A real X.509 certificate (DER) with the given subject CN, from the project PKI. */
async function testCertificateDer(t: TestContext, commonName: string): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'cv-kms-cert-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const { certFile } = await initCa(dir, { commonName });
  return new X509Certificate(await readFile(certFile)).raw;
}

test('register: certificate attributes from the X.509 value; Always Sensitive / Never Extractable from the stated flags', async (t) => {
  const kms = await startTestService(t);
  const der = await testCertificateDer(t, 'vm-host-7');
  const certBody = struct(Tag.Certificate, [en(Tag.CertificateType, 'X_509'), bytes(Tag.CertificateValue, der)]);
  const cert = uidOf(await kms.op('2.1', 'Register', [en(Tag.ObjectType, 'Certificate'), struct(Tag.Attributes, []), certBody]));
  const refs = [enumItem(Tag.AttributeReference, Tag.CertificateSubjectCN), enumItem(Tag.AttributeReference, Tag.CertificateLength)];
  const got = await kms.op('2.1', 'GetAttributes', [uid(cert), ...refs]);
  const attrs = child(got.payload as TtlvItem, Tag.Attributes) as TtlvItem;
  assert.equal(child(attrs, Tag.CertificateSubjectCN)?.value, 'vm-host-7');
  assert.equal(child(attrs, Tag.CertificateLength)?.value, der.length);
  const modify = await kms.op('2.1', 'ModifyAttribute', [uid(cert), struct(Tag.NewAttribute, [int(Tag.CertificateLength, 1)])]);
  assert.equal(modify.reason, 'AttributeReadOnly');

  const key = Buffer.alloc(16, 7);
  const block = struct(Tag.KeyBlock, [en(Tag.KeyFormatType, 'Raw'), struct(Tag.KeyValue, [bytes(Tag.KeyMaterial, key)]), en(Tag.CryptographicAlgorithm, 'AES'), int(Tag.CryptographicLength, 128)]);
  const flags = struct(Tag.Attributes, [bool(Tag.Sensitive, true), bool(Tag.Extractable, false)]);
  const id = uidOf(await kms.op('2.1', 'Register', [en(Tag.ObjectType, 'SymmetricKey'), flags, struct(Tag.SymmetricKey, [block])]));
  const history = await kms.op('2.1', 'GetAttributes', [uid(id), enumItem(Tag.AttributeReference, Tag.AlwaysSensitive), enumItem(Tag.AttributeReference, Tag.NeverExtractable)]);
  const h = child(history.payload as TtlvItem, Tag.Attributes) as TtlvItem;
  assert.equal(child(h, Tag.AlwaysSensitive)?.value, true);
  assert.equal(child(h, Tag.NeverExtractable)?.value, true);
  const plain = uidOf(await kms.op('2.1', 'Register', [en(Tag.ObjectType, 'SymmetricKey'), struct(Tag.Attributes, []), struct(Tag.SymmetricKey, [block])]));
  const none = await kms.op('2.1', 'GetAttributes', [uid(plain), enumItem(Tag.AttributeReference, Tag.AlwaysSensitive)]);
  assert.equal(children(child(none.payload as TtlvItem, Tag.Attributes) as TtlvItem, Tag.AlwaysSensitive).length, 0, 'no flag stated, no history');
});

test('attributes: add, modify, delete (1.x), set and vendor attributes (2.x), read-only refused', async (t) => {
  const kms = await startTestService(t);
  const id = uidOf(await kms.op('1.1', 'Create', aesCreate()));
  const xName = (v: string) => attr1('x-Product_Version', text(Tag.AttributeValue, v));
  assert.equal((await kms.op('1.1', 'AddAttribute', [uid(id), xName('6.7')])).status, 'Success');
  assert.equal((await kms.op('1.1', 'AddAttribute', [uid(id), xName('7.0')])).status, 'Success');
  const list = await kms.op('1.1', 'GetAttributeList', [uid(id)]);
  assert.ok(children(list.payload as TtlvItem, Tag.AttributeName).some((n) => n.value === 'x-Product_Version'));
  assert.equal((await kms.op('1.1', 'ModifyAttribute', [uid(id), struct(Tag.Attribute, [text(Tag.AttributeName, 'x-Product_Version'), int(Tag.AttributeIndex, 1), text(Tag.AttributeValue, '8.0')])])).status, 'Success');
  const got = await kms.op('1.1', 'GetAttributes', [uid(id), text(Tag.AttributeName, 'x-Product_Version')]);
  assert.deepEqual(children(got.payload as TtlvItem, Tag.Attribute).map((a) => child(a, Tag.AttributeValue)?.value), ['6.7', '8.0']);
  assert.equal((await kms.op('1.1', 'DeleteAttribute', [uid(id), text(Tag.AttributeName, 'x-Product_Version')])).status, 'Success');
  assert.equal((await kms.op('1.1', 'ModifyAttribute', [uid(id), attr1('State', en(Tag.State, 'Active'))])).reason, 'PermissionDenied');
  assert.equal((await kms.op('1.1', 'DeleteAttribute', [uid(id), text(Tag.AttributeName, 'x-none')])).reason, 'ItemNotFound');

  const vendor = struct(Tag.Attribute, [text(Tag.VendorIdentification, 'x'), text(Tag.AttributeName, 'attribute1'), text(Tag.AttributeValue, 'Value1')]);
  assert.equal((await kms.op('2.0', 'AddAttribute', [uid(id), struct(Tag.NewAttribute, [vendor])])).status, 'Success');
  const v1 = await kms.op('1.4', 'GetAttributes', [uid(id), text(Tag.AttributeName, 'x-attribute1')]);
  assert.equal(children(v1.payload as TtlvItem, Tag.Attribute).length, 1, 'the 2.x vendor attribute is the 1.x x- attribute');
  const set = await kms.op('2.0', 'SetAttribute', [uid(id), struct(Tag.NewAttribute, [text(Tag.ContactInformation, 'ops@example.org')])]);
  assert.equal(set.status, 'Success');
  const v2 = await kms.op('2.0', 'GetAttributes', [uid(id), enumItem(Tag.AttributeReference, Tag.ContactInformation), enumItem(Tag.AttributeReference, Tag.State)]);
  const attrs = child(v2.payload as TtlvItem, Tag.Attributes) as TtlvItem;
  assert.deepEqual((attrs.value as TtlvItem[]).map((a) => a.tag), [Tag.ContactInformation, Tag.State]);
  assert.equal((await kms.op('2.0', 'SetAttribute', [uid(id), struct(Tag.NewAttribute, [int(Tag.CryptographicLength, 5)])])).reason, 'AttributeReadOnly');
  const act = await kms.op('2.1', 'Activate', [uid(id)]);
  assert.equal(act.status, 'Success');
  const late = await kms.op('2.1', 'ModifyAttribute', [uid(id), struct(Tag.NewAttribute, [dateTime(Tag.ActivationDate, 5n)])]);
  assert.equal(late.reason, 'WrongKeyLifecycleState');
});

test('locate by name, type, state, algorithm and custom attribute, with Maximum and Offset Items', async (t) => {
  const kms = await startTestService(t);
  const name = (n: string) => attr1('Name', struct(Tag.Name, [text(Tag.NameValue, n), en(Tag.NameType, 'UninterpretedTextString')]));
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push(uidOf(await kms.op('1.4', 'Create', aesCreate(128, [name(i < 3 ? 'group-a' : 'group-b')]))));
  await kms.op('1.4', 'Activate', [uid(ids[0] as string)]);
  await kms.op('1.4', 'AddAttribute', [uid(ids[1] as string), attr1('x-tag', text(Tag.AttributeValue, 'blue'))]);
  const find = async (payload: TtlvItem[]) => children((await kms.op('1.4', 'Locate', payload)).payload as TtlvItem, Tag.UniqueIdentifier).map((u) => u.value);
  assert.deepEqual(await find([name('group-a')]), ids.slice(0, 3).reverse());
  assert.deepEqual(await find([attr1('State', en(Tag.State, 'Active'))]), [ids[0]]);
  assert.deepEqual(await find([attr1('Object Type', en(Tag.ObjectType, 'SymmetricKey')), attr1('Cryptographic Algorithm', en(Tag.CryptographicAlgorithm, 'AES'))]), [...ids].reverse());
  assert.deepEqual(await find([attr1('x-tag', text(Tag.AttributeValue, 'blue'))]), [ids[1]]);
  assert.deepEqual(await find([int(Tag.MaximumItems, 2), int(Tag.OffsetItems, 1)]), [ids[3], ids[2]], 'newest first');
  const located = await kms.op('1.4', 'Locate', [int(Tag.MaximumItems, 1)]);
  assert.equal(child(located.payload as TtlvItem, Tag.LocatedItems)?.value, 5);
  assert.deepEqual(await find([attr1('Object Type', en(Tag.ObjectType, 'SecretData'))]), []);
});

test('rekey links the new key to the old; check; query; discover versions; interop and log', async (t) => {
  const kms = await startTestService(t);
  const old = uidOf(await kms.op('1.4', 'Create', aesCreate(256)));
  await kms.op('1.4', 'Activate', [uid(old)]);
  const fresh = uidOf(await kms.op('1.4', 'ReKey', [uid(old)]));
  assert.notEqual(fresh, old);
  const links = await kms.op('1.4', 'GetAttributes', [uid(fresh), text(Tag.AttributeName, 'Link')]);
  const link = child(children(links.payload as TtlvItem, Tag.Attribute)[0] as TtlvItem, Tag.AttributeValue) as TtlvItem;
  assert.equal(child(link, Tag.LinkedObjectIdentifier)?.value, old);
  assert.notDeepEqual(keyMaterial(await kms.op('1.4', 'Get', [uid(fresh)])), keyMaterial(await kms.op('1.4', 'Get', [uid(old)])));
  assert.equal((await kms.store.get(fresh))?.state, 'Active');

  assert.equal((await kms.op('2.0', 'Check', [uid(old), int(Tag.CryptographicUsageMask, 0x04)])).status, 'Success');
  assert.equal((await kms.op('2.0', 'Check', [uid(old), int(Tag.CryptographicUsageMask, 0x01)])).reason, 'IncompatibleCryptographicUsageMask');

  const fns = ['QueryOperations', 'QueryObjects', 'QueryServerInformation', 'QueryProfiles', 'QueryCapabilities', 'QueryRNGs', 'QueryClientRegistrationMethods', 'QueryApplicationNamespaces', 'QueryAttestationTypes', 'QueryValidations'];
  const q = await kms.op('1.4', 'Query', fns.map((f) => en(Tag.QueryFunction, f)));
  assert.equal(q.status, 'Success');
  const ops = children(q.payload as TtlvItem, Tag.Operation).length;
  assert.ok(ops >= 19, `${ops} operations listed`);
  assert.ok(child(q.payload as TtlvItem, Tag.VendorIdentification));
  assert.ok(child(q.payload as TtlvItem, Tag.CapabilityInformation));
  const dv = await kms.op('1.1', 'DiscoverVersions', [struct(Tag.ProtocolVersion, [int(Tag.ProtocolVersionMajor, 1), int(Tag.ProtocolVersionMinor, 1)]), struct(Tag.ProtocolVersion, [int(Tag.ProtocolVersionMajor, 9), int(Tag.ProtocolVersionMinor, 9)])]);
  assert.equal(children(dv.payload as TtlvItem, Tag.ProtocolVersion).length, 1);
  assert.equal((await kms.op('1.4', 'Interop', [])).status, 'Success');
  assert.equal((await kms.op('1.4', 'Log', [])).status, 'Success');
});
