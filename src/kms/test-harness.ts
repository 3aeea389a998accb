/**
 * For tests: a KMS service on a real SQLite store in a temporary directory, driven in-process
 * (no listener), and small builders for request messages.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Tag,
  bytes,
  child,
  children,
  decodeTtlv,
  encodeTtlv,
  enumItem,
  int,
  struct,
  text,
  type TtlvItem,
} from '../kmip/index.js';
import { silentLogger } from '../common/logging.js';
import { AuditLog } from './audit.js';
import type { Identity } from './identity.js';
import { enumName, enumValue } from './kmip-values.js';
import { createKmsService, type KmsService } from './service.js';
import { RootKey, openStore, type KmsStore } from './store/index.js';

export const ALICE: Identity = { subject: 'CN=alice', admin: false };
export const BOB: Identity = { subject: 'CN=bob', admin: false };
export const ADMIN: Identity = { subject: 'CN=admin', admin: true };

export interface TestKms {
  readonly service: KmsService;
  readonly store: KmsStore;
  readonly audit: AuditLog;
  /** Sends one request message, returns the decoded response message. */
  send(msg: TtlvItem, who?: Identity): Promise<TtlvItem>;
  /** One operation in a one-item batch: the response batch item. */
  op(version: string, operation: string, payload: TtlvItem[], who?: Identity): Promise<BatchResult>;
  close(): Promise<void>;
}

export interface BatchResult {
  readonly status: string;
  readonly reason: string | undefined;
  readonly payload: TtlvItem | undefined;
  readonly item: TtlvItem;
}

export async function startTestService(t: { after(fn: () => Promise<void>): void }): Promise<TestKms> {
  const dir = await mkdtemp(join(tmpdir(), 'cv-kms-svc-'));
  const rootKey = await RootKey.create(dir);
  const store = await openStore({ dataDir: dir, rootKey });
  const audit = new AuditLog(store);
  const service = createKmsService({ store, audit, logger: silentLogger(), maxMessageBytes: 1 << 20, maxDepth: 32 });
  const send = async (msg: TtlvItem, who: Identity = ALICE): Promise<TtlvItem> => decodeTtlv(await service.handleBytes(encodeTtlv(msg), who));
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await audit.close();
    await store.close();
    rootKey.dispose();
    await rm(dir, { recursive: true, force: true });
  };
  t.after(close);
  return {
    service,
    store,
    audit,
    send,
    async op(version, operation, payload, who) {
      const res = await send(request(version, [{ operation, payload }]), who);
      return batchResults(res)[0] as BatchResult;
    },
    close,
  };
}

export function version(v: string): TtlvItem {
  const [major, minor] = v.split('.').map(Number) as [number, number];
  return struct(Tag.ProtocolVersion, [int(Tag.ProtocolVersionMajor, major), int(Tag.ProtocolVersionMinor, minor)]);
}

export interface ItemSpec {
  readonly operation: string;
  readonly payload: TtlvItem[];
  readonly id?: Uint8Array;
}

export function request(v: string, items: ItemSpec[], header: TtlvItem[] = []): TtlvItem {
  return struct(Tag.RequestMessage, [
    struct(Tag.RequestHeader, [version(v), ...header, int(Tag.BatchCount, items.length)]),
    ...items.map((it) =>
      struct(Tag.BatchItem, [
        enumItem(Tag.Operation, enumValue(Tag.Operation, it.operation) as number),
        ...(it.id ? [bytes(Tag.UniqueBatchItemID, it.id)] : []),
        struct(Tag.RequestPayload, it.payload),
      ]),
    ),
  ]);
}

export function batchResults(res: TtlvItem): BatchResult[] {
  return children(res, Tag.BatchItem).map((item) => {
    const status = child(item, Tag.ResultStatus);
    const reason = child(item, Tag.ResultReason);
    return {
      status: status && status.type === 'Enumeration' ? (enumName(Tag.ResultStatus, status.value) ?? '?') : '?',
      reason: reason && reason.type === 'Enumeration' ? enumName(Tag.ResultReason, reason.value) : undefined,
      payload: child(item, Tag.ResponsePayload),
      item,
    };
  });
}

/** 1.x TemplateAttribute / Attribute helpers. */
export function attr1(name: string, value: TtlvItem): TtlvItem {
  return struct(Tag.Attribute, [text(Tag.AttributeName, name), { ...value, tag: Tag.AttributeValue } as TtlvItem]);
}

export function template(...attrs: TtlvItem[]): TtlvItem {
  return struct(Tag.TemplateAttribute, attrs);
}

export function en(tag: number, name: string): TtlvItem {
  return enumItem(tag, enumValue(tag, name) as number);
}

/** A 1.x Create payload for an AES key. */
export function aesCreate(bits = 256, extra: TtlvItem[] = []): TtlvItem[] {
  return [
    en(Tag.ObjectType, 'SymmetricKey'),
    template(
      attr1('Cryptographic Algorithm', en(Tag.CryptographicAlgorithm, 'AES')),
      attr1('Cryptographic Length', int(Tag.CryptographicLength, bits)),
      attr1('Cryptographic Usage Mask', int(Tag.CryptographicUsageMask, 0x0c)),
      ...extra,
    ),
  ];
}

export function uidOf(r: BatchResult): string {
  const u = r.payload ? child(r.payload, Tag.UniqueIdentifier) : undefined;
  if (!u || u.type !== 'TextString') throw new Error(`no UniqueIdentifier in the response (${r.status} ${r.reason ?? ''})`);
  return u.value;
}

export function uid(id: string): TtlvItem {
  return text(Tag.UniqueIdentifier, id);
}
