import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tag } from './tags.js';
import { Operation, ResultReason, ResultStatus } from './enums.js';
import { struct, text, int, enumItem, dateTime, encodeTtlv } from './ttlv.js';
import type { TtlvItem } from './ttlv-types.js';
import { parseSingleResponse } from './client-messages.js';
import { KmipClientError, KmipOperationError } from './client-errors.js';
import { isKmipError } from './errors.js';

function response(batchItems: TtlvItem[]): Buffer {
  return encodeTtlv(
    struct(Tag.ResponseMessage, [
      struct(Tag.ResponseHeader, [
        struct(Tag.ProtocolVersion, [int(Tag.ProtocolVersionMajor, 1), int(Tag.ProtocolVersionMinor, 2)]),
        dateTime(Tag.TimeStamp, 1_700_000_000n),
        int(Tag.BatchCount, batchItems.length),
      ]),
      ...batchItems,
    ]),
  );
}

const LIMIT = 1 << 20;

test('a Success response gives its payload', () => {
  const raw = response([
    struct(Tag.BatchItem, [
      enumItem(Tag.Operation, Operation.Create),
      enumItem(Tag.ResultStatus, ResultStatus.Success),
      struct(Tag.ResponsePayload, [enumItem(Tag.ObjectType, 2), text(Tag.UniqueIdentifier, 'abc')]),
    ]),
  ]);
  const p = parseSingleResponse(raw, Operation.Create, LIMIT);
  assert.deepEqual(p.value[1], text(Tag.UniqueIdentifier, 'abc'));
});

test('a Success without payload gives an empty payload', () => {
  const raw = response([
    struct(Tag.BatchItem, [
      enumItem(Tag.Operation, Operation.Activate),
      enumItem(Tag.ResultStatus, ResultStatus.Success),
    ]),
  ]);
  assert.deepEqual(parseSingleResponse(raw, Operation.Activate, LIMIT).value, []);
});

test('a failed result is a KmipOperationError with the code of its Result Reason', () => {
  const raw = response([
    struct(Tag.BatchItem, [
      enumItem(Tag.Operation, Operation.Destroy),
      enumItem(Tag.ResultStatus, ResultStatus.OperationFailed),
      enumItem(Tag.ResultReason, ResultReason.WrongKeyLifecycleState),
      text(Tag.ResultMessage, 'object is Active'),
    ]),
  ]);
  assert.throws(
    () => parseSingleResponse(raw, Operation.Destroy, LIMIT),
    (e: unknown) => {
      assert.ok(e instanceof KmipOperationError);
      assert.ok(isKmipError(e, 'wrong_key_lifecycle_state'));
      assert.equal(e.kind, 'conflict');
      assert.equal(e.operation, 'Destroy');
      assert.equal(e.resultStatus, 'OperationFailed');
      assert.equal(e.reasonSent, ResultReason.WrongKeyLifecycleState);
      assert.equal(e.resultMessage, 'object is Active');
      assert.match(e.message, /Destroy failed \(OperationFailed, WrongKeyLifecycleState\): object is Active/);
      return true;
    },
  );
});

test('a failure without a reason, or with an unknown one, is general_failure', () => {
  for (const extra of [[], [enumItem(Tag.ResultReason, 0x7777)]]) {
    const raw = response([
      struct(Tag.BatchItem, [enumItem(Tag.ResultStatus, ResultStatus.OperationFailed), ...extra]),
    ]);
    assert.throws(
      () => parseSingleResponse(raw, Operation.Get, LIMIT),
      (e: unknown) => e instanceof KmipOperationError && e.code === 'general_failure',
    );
  }
});

test('malformed or mismatched responses are response_invalid', () => {
  const cases: [string, Buffer][] = [
    ['truncated', response([struct(Tag.BatchItem, [enumItem(Tag.ResultStatus, 0)])]).subarray(0, 40)],
    ['not a response', encodeTtlv(struct(Tag.RequestMessage, []))],
    [
      'no header',
      encodeTtlv(struct(Tag.ResponseMessage, [struct(Tag.BatchItem, [enumItem(Tag.ResultStatus, 0)])])),
    ],
    [
      'two batch items',
      response([
        struct(Tag.BatchItem, [enumItem(Tag.ResultStatus, 0)]),
        struct(Tag.BatchItem, [enumItem(Tag.ResultStatus, 0)]),
      ]),
    ],
    [
      'other operation',
      response([
        struct(Tag.BatchItem, [enumItem(Tag.Operation, Operation.Get), enumItem(Tag.ResultStatus, 0)]),
      ]),
    ],
    ['no status', response([struct(Tag.BatchItem, [enumItem(Tag.Operation, Operation.Create)])])],
    ['status of the wrong type', response([struct(Tag.BatchItem, [text(Tag.ResultStatus, 'ok')])])],
  ];
  for (const [what, raw] of cases) {
    assert.throws(
      () => parseSingleResponse(raw, Operation.Create, LIMIT),
      (e: unknown) => e instanceof KmipClientError && e.code === 'response_invalid',
      what,
    );
  }
});

test('a response above the size limit is response_invalid', () => {
  const raw = response([
    struct(Tag.BatchItem, [
      enumItem(Tag.ResultStatus, 0),
      struct(Tag.ResponsePayload, [text(Tag.UniqueIdentifier, 'x'.repeat(200))]),
    ]),
  ]);
  assert.throws(
    () => parseSingleResponse(raw, Operation.Create, 128),
    (e: unknown) => e instanceof KmipClientError && e.code === 'response_invalid',
  );
});
