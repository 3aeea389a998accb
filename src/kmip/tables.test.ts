import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Tag, tagByName, tagName, tagSince, tagType, isReservedIn2, TAGS_SINCE } from './tags.js';
import {
  CryptographicAlgorithm,
  ObjectType,
  Operation,
  ProfileName,
  ResultReason,
  ResultStatus,
  State,
  enumDef,
  enumForTag,
  enumValueName,
  maskForTag,
  maskNames,
  CryptographicUsageMask,
} from './enums.js';
import { KMIP_ERROR_CODES, KmipError, resultReasonOf, type KmipErrorCode } from './errors.js';
import { vectorFiles } from './test-vectors.js';

test('tags: names and numbers of the spec', () => {
  assert.equal(Tag.UniqueIdentifier, 0x420094);
  assert.equal(Tag.RequestMessage, 0x420078);
  assert.equal(Tag.ActivationDate, 0x420001);
  assert.equal(Tag.Attributes, 0x420125);
  assert.equal(tagName(0x420094), 'UniqueIdentifier');
  assert.equal(tagName(0x540123), '0x540123');
  assert.equal(tagByName('UniqueIdentifier'), 0x420094);
  assert.equal(tagByName('0x540123'), 0x540123);
  assert.equal(tagByName('toString'), undefined);
  assert.equal(tagType(Tag.UniqueBatchItemID), 'ByteString');
  assert.equal(tagType(Tag.Operation), 'Enumeration');
  assert.equal(tagSince(Tag.ActivationDate), '1.0');
  assert.equal(tagSince(Tag.Attributes), '2.0');
  assert.ok(isReservedIn2(Tag.AttributeIndex));
  assert.ok(!isReservedIn2(Tag.UniqueIdentifier));
  const numbers = new Set(Object.values(Tag));
  assert.equal(numbers.size, Object.keys(Tag).length, 'tag numbers are unique');
  for (const names of Object.values(TAGS_SINCE)) for (const n of names) assert.ok(Object.hasOwn(Tag, n));
});

test('enumerations: values, versions, tag mapping, masks', () => {
  assert.equal(ObjectType.SymmetricKey, 2);
  assert.equal(CryptographicAlgorithm.AES, 3);
  assert.equal(Operation.Create, 1);
  assert.equal(Operation.SetAttribute, 0x31);
  assert.equal(ResultStatus.Success, 0);
  assert.equal(ResultReason.ItemNotFound, 1);
  assert.equal(ResultReason.GeneralFailure, 0x100);
  assert.equal(State.PreActive, 1);
  assert.equal(ProfileName.BaselineServerBasicKMIPV1_2, 1);
  assert.equal(enumForTag(Tag.ObjectType), enumDef('ObjectType'));
  assert.equal(enumForTag(Tag.MaskGeneratorHashingAlgorithm), enumDef('HashingAlgorithm'));
  assert.equal(enumValueName(enumDef('Operation')!, 0x31), 'SetAttribute');
  assert.equal(enumDef('Operation')!.since['SetAttribute'], '2.0');
  assert.equal(enumDef('Operation')!.since['Create'], '1.0');
  assert.ok(enumDef('ProfileName')!.reservedIn2.includes('BaselineServerBasicKMIPV1_2'));
  const mask = maskForTag(Tag.CryptographicUsageMask)!;
  assert.deepEqual(
    maskNames(mask, CryptographicUsageMask.Encrypt | CryptographicUsageMask.Decrypt | 0x80000000),
    {
      names: ['Encrypt', 'Decrypt'],
      rest: 0x80000000,
    },
  );
});

test('every tag and enumeration/mask name of the repository vectors is known', () => {
  const unknownTags = new Set<string>();
  const unknownValues = new Set<string>();
  const allNames = new Set<string>();
  for (const name of ['CryptographicUsageMask', 'StorageStatusMask', 'ProtectionStorageMask']) {
    for (const k of Object.keys(enumDef(name)!.values)) allNames.add(k);
  }
  const defs = Object.keys(Tag)
    .map((t) => enumForTag(Tag[t as keyof typeof Tag]))
    .filter((d) => d !== undefined);
  for (const d of defs) for (const k of Object.keys(d.values)) allNames.add(k);
  for (const file of vectorFiles()) {
    const body = readFileSync(file, 'utf8').replace(/<!--[\s\S]*?-->/g, '');
    for (const m of body.matchAll(/<([A-Za-z_0-9]+)((?:\s+[a-z]+="[^"]*")*)\s*\/?>/g)) {
      const name = m[1]!;
      // KMIP and KmipTestCase wrap the messages of a vector file; they are not tags.
      if (name !== 'KMIP' && name !== 'KmipTestCase' && tagByName(name) === undefined) unknownTags.add(name);
      const type = /type="([^"]*)"/.exec(m[2] ?? '')?.[1];
      const value = /value="([^"]*)"/.exec(m[2] ?? '')?.[1] ?? '';
      if (type !== 'Enumeration' && type !== 'Integer') continue;
      for (const v of value.split(/[\s|]+/)) {
        if (v === '' || /^-?\d+$|^0x|^\$/.test(v)) continue;
        if (!allNames.has(v) && tagByName(v) === undefined) unknownValues.add(`${name}=${v}`);
      }
    }
  }
  assert.deepEqual([...unknownTags], []);
  assert.deepEqual([...unknownValues], []);
});

test('errors: every code maps to a Result Reason and a kind', () => {
  for (const [code, info] of Object.entries(KMIP_ERROR_CODES)) {
    assert.ok(Object.hasOwn(ResultReason, info.reason), `${code} -> ${info.reason}`);
    const e = new KmipError(code as KmipErrorCode, 'm');
    assert.equal(e.resultReason, ResultReason[info.reason]);
    assert.equal(e.kind, info.kind);
  }
  assert.equal(resultReasonOf(new KmipError('item_not_found', 'x')), ResultReason.ItemNotFound);
  assert.equal(resultReasonOf(new KmipError('message_too_large', 'x')), ResultReason.InvalidMessage);
  assert.equal(resultReasonOf(new Error('boom')), ResultReason.GeneralFailure);
  // Every Result Reason of the tables has a code.
  const reasons = new Set(Object.values(KMIP_ERROR_CODES).map((i) => i.reason));
  for (const r of Object.keys(ResultReason)) assert.ok(reasons.has(r as never), `no code for ${r}`);
});

test('docs/kmip.md documents every error code', () => {
  const doc = readFileSync(new URL('../../../docs/kmip.md', import.meta.url), 'utf8');
  for (const code of Object.keys(KMIP_ERROR_CODES))
    assert.ok(doc.includes(`\`${code}\``), `docs/kmip.md lacks ${code}`);
});

test('KMIP 2.1 additions are present and marked 2.1', () => {
  assert.equal(Tag.ProcessingStage, 0x420175);
  assert.equal(tagSince(Tag.AsynchronousCorrelationValues), '2.1');
  assert.equal(Operation.Ping, 0x3b);
  assert.equal(enumDef('Operation')!.since['Ping'], '2.1');
  assert.equal(ResultReason.DuplicateProcessRequest, 0x4c);
  assert.equal(enumForTag(Tag.ProcessingStage), enumDef('ProcessingStage'));
  assert.equal(new KmipError('constraint_violation', 'x').resultReason, 0x4b);
});
