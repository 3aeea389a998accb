/**
 * Valid request messages the fuzzer mutates: every operation a KMIP client of this KMS sends, at
 * KMIP 1.1, 1.4 and 2.0 (1.x TemplateAttribute form; the 2.0 ones use the same payloads, which a 2.0
 * server must answer with a clear error rather than a crash), with and without batch IDs.
 */
import {
  CryptographicAlgorithm,
  KeyFormatType,
  NameType,
  ObjectType,
  Operation,
  QueryFunction,
  RevocationReasonCode,
  Tag,
  bytes,
  encodeTtlv,
  enumItem,
  int,
  struct,
  text,
} from '../../src/kmip/index.js';
import type { TtlvItem } from '../../src/kmip/index.js';
import { attribute1x, createAesPayload1x, requestMessage, uidPayload } from '../kmip-conformance/messages.js';

function registerPayload(): TtlvItem[] {
  return [
    enumItem(Tag.ObjectType, ObjectType.SymmetricKey),
    struct(Tag.TemplateAttribute, [
      attribute1x('Cryptographic Usage Mask', int(0, 12)),
      attribute1x('Name', struct(0, [text(Tag.NameValue, 'fuzz-seed'), enumItem(Tag.NameType, NameType.UninterpretedTextString)])),
    ]),
    struct(Tag.SymmetricKey, [
      struct(Tag.KeyBlock, [
        enumItem(Tag.KeyFormatType, KeyFormatType.Raw),
        struct(Tag.KeyValue, [bytes(Tag.KeyMaterial, new Uint8Array(16).fill(0x42))]),
        enumItem(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
        int(Tag.CryptographicLength, 128),
      ]),
    ]),
  ];
}

function seedItems(uid: string): TtlvItem[][] {
  const id8 = (n: number): Uint8Array => Uint8Array.from([0, 0, 0, 0, 0, 0, 0, n]);
  return [
    [requestMessage([1, 1], [{ operation: Operation.DiscoverVersions, payload: [] }])],
    [
      requestMessage([1, 1], [
        {
          operation: Operation.Query,
          payload: [
            enumItem(Tag.QueryFunction, QueryFunction.QueryOperations),
            enumItem(Tag.QueryFunction, QueryFunction.QueryObjects),
            enumItem(Tag.QueryFunction, QueryFunction.QueryServerInformation),
          ],
        },
      ]),
    ],
    [requestMessage([1, 1], [{ operation: Operation.Create, payload: createAesPayload1x(256), id: id8(1) }])],
    [requestMessage([1, 4], [{ operation: Operation.Register, payload: registerPayload() }])],
    [requestMessage([1, 1], [{ operation: Operation.Get, payload: uidPayload(uid) }])],
    [
      requestMessage([1, 1], [
        { operation: Operation.GetAttributes, payload: [...uidPayload(uid), text(Tag.AttributeName, 'x-Product_Version')], id: id8(2) },
      ]),
    ],
    [
      requestMessage(
        [1, 1],
        ['x-Product_Version', 'x-Vendor', 'x-Product'].map((name, i) => ({
          operation: Operation.AddAttribute,
          payload: [...uidPayload(uid), attribute1x(name, text(0, `v${i}`))],
          id: id8(3 + i),
        })),
      ),
    ],
    [requestMessage([1, 2], [{ operation: Operation.Activate, payload: uidPayload(uid) }])],
    [
      requestMessage([1, 2], [
        {
          operation: Operation.Locate,
          payload: [
            int(Tag.MaximumItems, 5),
            attribute1x('Object Type', enumItem(0, ObjectType.SymmetricKey)),
            attribute1x('Name', struct(0, [text(Tag.NameValue, 'fuzz-seed'), enumItem(Tag.NameType, NameType.UninterpretedTextString)])),
          ],
        },
      ]),
    ],
    [
      requestMessage([1, 1], [
        {
          operation: Operation.Revoke,
          payload: [...uidPayload(uid), struct(Tag.RevocationReason, [enumItem(Tag.RevocationReasonCode, RevocationReasonCode.KeyCompromise)])],
        },
      ]),
    ],
    [requestMessage([1, 1], [{ operation: Operation.Destroy, payload: uidPayload(uid) }])],
    [requestMessage([2, 0], [{ operation: Operation.Get, payload: uidPayload(uid) }])],
    [requestMessage([2, 0], [{ operation: Operation.Create, payload: createAesPayload1x(128) }])],
  ];
}

/** The seed messages, encoded; `uid` names an object the seeds refer to. */
export function seedMessages(uid = '1'): Buffer[] {
  return seedItems(uid)
    .flat()
    .map((m) => encodeTtlv(m));
}
