import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildRequestMessage,
  encodeResponseMessage,
  failureItem,
  parseRequestMessage,
  parseResponseMessage,
  requestContext,
  successItem,
  batchErrorContinuation,
} from './messages.js';
import { xmlToTtlv } from './xml.js';
import { vectorFiles, vectorMessages } from './test-vectors.js';
import { BatchErrorContinuationOption, Operation, ResultReason, ResultStatus } from './enums.js';
import { KmipError } from './errors.js';
import { Tag } from './tags.js';
import { bytes, dateTime, decodeTtlv, encodeTtlv, enumItem, int, struct, text } from './ttlv.js';
import type { TtlvItem } from './ttlv-types.js';

const isCode =
  (code: string) =>
  (e: unknown): boolean =>
    e instanceof KmipError && e.code === code;

function bind(p: { tag: number; type: string }): TtlvItem | undefined {
  if (p.type === 'DateTime') return dateTime(p.tag, 1_700_000_000n);
  if (p.type === 'ByteString') return bytes(p.tag, new Uint8Array(8));
  return undefined;
}

test('every vector request and response parses with the typed message readers', () => {
  let requests = 0;
  let responses = 0;
  for (const file of vectorFiles()) {
    for (const m of vectorMessages(file)) {
      const item = xmlToTtlv(m.xml, { placeholder: bind });
      if (m.name === 'RequestMessage') {
        const req = parseRequestMessage(item);
        for (const b of req.batchItems) assert.equal(b.problem, undefined, `${file}: ${b.problem?.message}`);
        // Rebuilding gives the same item (the readers keep every field).
        assert.deepEqual(buildRequestMessage(req), item, file);
        requests++;
      } else {
        const resp = parseResponseMessage(item);
        assert.equal(resp.batchItems.length, resp.header.batchCount);
        responses++;
      }
    }
  }
  assert.ok(requests > 500 && responses > 500, `${requests} requests, ${responses} responses`);
});

const V11 = { major: 1, minor: 1 };

test('vCenter-style request: 8-byte Unique Batch Item IDs, three AddAttribute in one batch', () => {
  const ids = [1, 2, 3].map((n) => new Uint8Array([0, 0, 0, 0, 0, 0, 0, n]));
  const msg = buildRequestMessage({
    header: { protocolVersion: V11, batchErrorContinuationOption: BatchErrorContinuationOption.Continue },
    batchItems: ids.map((id) => ({
      operation: Operation.AddAttribute,
      uniqueBatchItemId: id,
      payload: struct(Tag.RequestPayload, [text(Tag.UniqueIdentifier, 'k1')]),
    })),
  });
  const req = parseRequestMessage(decodeTtlv(encodeTtlv(msg)));
  assert.deepEqual(req.header.protocolVersion, V11);
  assert.equal(req.header.batchCount, 3);
  assert.equal(batchErrorContinuation(req.header), 'Continue');
  assert.deepEqual(
    req.batchItems.map((b) => b.uniqueBatchItemId),
    ids,
  );
  const resp = encodeResponseMessage({
    header: { protocolVersion: V11, timeStamp: 1_700_000_000n },
    batchItems: [
      successItem(req.batchItems[0]!, [text(Tag.UniqueIdentifier, 'k1')]),
      failureItem(req.batchItems[1]!, new KmipError('attribute_single_valued', 'x-Vendor exists')),
      failureItem(req.batchItems[2]!, new Error('disk on fire: /var/lib/secret')),
    ],
  });
  // The header carries exactly ProtocolVersion, TimeStamp and BatchCount.
  const header = resp.value[0]!;
  assert.equal(header.type, 'Structure');
  assert.deepEqual(
    (header.value as TtlvItem[]).map((c) => c.tag),
    [Tag.ProtocolVersion, Tag.TimeStamp, Tag.BatchCount],
  );
  const parsed = parseResponseMessage(decodeTtlv(encodeTtlv(resp)));
  assert.equal(parsed.batchItems[0]!.resultStatus, ResultStatus.Success);
  assert.deepEqual(parsed.batchItems[1]!.uniqueBatchItemId, ids[1]);
  assert.equal(parsed.batchItems[1]!.resultReason, ResultReason.AttributeSingleValued);
  assert.equal(parsed.batchItems[2]!.resultReason, ResultReason.GeneralFailure);
  assert.doesNotMatch(parsed.batchItems[2]!.resultMessage ?? '', /fire|secret/);
});

function header(children: TtlvItem[]): TtlvItem {
  return struct(Tag.RequestHeader, children);
}
const PV = struct(Tag.ProtocolVersion, [int(Tag.ProtocolVersionMajor, 1), int(Tag.ProtocolVersionMinor, 4)]);
const ITEM = struct(Tag.BatchItem, [
  enumItem(Tag.Operation, Operation.Query),
  struct(Tag.RequestPayload, []),
]);

test('frame errors: invalid_message (wrong order, missing, extra, count mismatch)', () => {
  const bad: TtlvItem[] = [
    int(Tag.RequestMessage, 1),
    struct(Tag.ResponseMessage, []),
    struct(Tag.RequestMessage, [ITEM]),
    struct(Tag.RequestMessage, [header([PV, int(Tag.BatchCount, 1)])]),
    struct(Tag.RequestMessage, [header([int(Tag.BatchCount, 1), PV]), ITEM]),
    struct(Tag.RequestMessage, [header([PV]), ITEM]),
    struct(Tag.RequestMessage, [header([PV, int(Tag.BatchCount, 2)]), ITEM]),
    struct(Tag.RequestMessage, [header([PV, PV, int(Tag.BatchCount, 1)]), ITEM]),
    struct(Tag.RequestMessage, [header([PV, text(Tag.UniqueIdentifier, 'x'), int(Tag.BatchCount, 1)]), ITEM]),
    struct(Tag.RequestMessage, [header([PV, int(Tag.BatchCount, 1)]), ITEM, text(Tag.UniqueIdentifier, 'x')]),
    struct(Tag.RequestMessage, [
      header([
        struct(Tag.ProtocolVersion, [int(Tag.ProtocolVersionMinor, 4), int(Tag.ProtocolVersionMajor, 1)]),
        int(Tag.BatchCount, 1),
      ]),
      ITEM,
    ]),
  ];
  for (const item of bad) assert.throws(() => parseRequestMessage(item), isCode('invalid_message'));
  // Wrong type for a header field, unknown continuation option: invalid_field.
  assert.throws(
    () => parseRequestMessage(struct(Tag.RequestMessage, [header([PV, text(Tag.BatchCount, '1')]), ITEM])),
    isCode('invalid_field'),
  );
  assert.throws(
    () =>
      parseRequestMessage(
        struct(Tag.RequestMessage, [
          header([PV, enumItem(Tag.BatchErrorContinuationOption, 9), int(Tag.BatchCount, 1)]),
          ITEM,
        ]),
      ),
    isCode('invalid_field'),
  );
});

test('a broken batch item is reported on that item, with its operation and id', () => {
  const id = new Uint8Array([9, 9]);
  const msg = struct(Tag.RequestMessage, [
    header([PV, int(Tag.BatchCount, 3)]),
    ITEM,
    struct(Tag.BatchItem, [enumItem(Tag.Operation, Operation.Get), bytes(Tag.UniqueBatchItemID, id)]),
    struct(Tag.BatchItem, [struct(Tag.RequestPayload, []), enumItem(Tag.Operation, Operation.Get)]),
  ]);
  const req = parseRequestMessage(msg);
  assert.equal(req.batchItems[0]!.problem, undefined);
  assert.equal(req.batchItems[1]!.problem?.code, 'invalid_message');
  assert.equal(req.batchItems[1]!.operation, Operation.Get);
  assert.deepEqual(req.batchItems[1]!.uniqueBatchItemId, id);
  assert.match(req.batchItems[2]!.problem?.message ?? '', /out of order/);
  const f = failureItem(req.batchItems[1]!, req.batchItems[1]!.problem);
  assert.equal(f.resultReason, ResultReason.InvalidMessage);
});

test('requestContext reads the version and ids of a message that does not parse', () => {
  const msg = struct(Tag.RequestMessage, [
    header([PV]),
    struct(Tag.BatchItem, [
      enumItem(Tag.Operation, Operation.Create),
      bytes(Tag.UniqueBatchItemID, new Uint8Array([1])),
    ]),
  ]);
  assert.throws(() => parseRequestMessage(msg), isCode('invalid_message'));
  const ctx = requestContext(msg);
  assert.deepEqual(ctx.version, { major: 1, minor: 4 });
  assert.deepEqual(ctx.items, [{ operation: Operation.Create, uniqueBatchItemId: new Uint8Array([1]) }]);
  assert.deepEqual(requestContext(int(Tag.BatchCount, 1)), { items: [] });
});

test('response parsing requires ResultStatus and a consistent BatchCount', () => {
  const h = struct(Tag.ResponseHeader, [PV, dateTime(Tag.TimeStamp, 1n), int(Tag.BatchCount, 1)]);
  assert.throws(
    () =>
      parseResponseMessage(
        struct(Tag.ResponseMessage, [h, struct(Tag.BatchItem, [enumItem(Tag.Operation, 1)])]),
      ),
    isCode('invalid_message'),
  );
  assert.throws(() => parseResponseMessage(struct(Tag.ResponseMessage, [h])), isCode('invalid_message'));
});
