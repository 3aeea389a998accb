/**
 * The KMIP client of center (DESIGN.md §1, §2): Create, Activate, Get, GetAttributes, Locate,
 * Revoke, Destroy, plus Register (Secret Data), DiscoverVersions and Query, over pooled mutual-TLS
 * connections with failover across the servers of a cluster (client-pool.ts).
 *
 * Each call is one request message with one batch item. A Result Status other than Success throws a
 * KmipOperationError (a KmipError with the Result Reason's code); transport failures throw a
 * KmipClientError after every server was tried. Key material comes back in a SecretBytes; the raw
 * response buffers that held it are zeroed.
 */
import type { Logger } from 'pino';
import { SecretBytes } from '../crypto/secret-bytes.js';
import { Tag } from './tags.js';
import {
  CryptographicAlgorithm,
  CryptographicUsageMask,
  ObjectType,
  Operation,
  QueryFunction,
  RevocationReasonCode,
  SecretDataType,
  State,
  KeyFormatType,
} from './enums.js';
import {
  struct,
  int,
  enumItem,
  text,
  bytes,
  dateTime,
  child,
  children,
  getText,
  reqText,
  asText,
  asEnum,
  reqInt,
} from './ttlv.js';
import type { StructureItem, TtlvItem } from './ttlv-types.js';
import { KmipError } from './errors.js';
import { KmipClientError } from './client-errors.js';
import { KmipPool } from './client-pool.js';
import { createKmipTlsContext, endpointName, type KmipEndpoint } from './client-connection.js';
import {
  OBJECT_TYPE_DEF,
  OPERATION_DEF,
  encodeSingleRequest,
  nameOf,
  parseSingleResponse,
  readManagedObject,
  readPayload,
  zeroByteStrings,
  type KmipManagedObject,
} from './client-messages.js';
import type { KmipAttribute } from './attributes.js';
import {
  attributeGroup,
  attributeSelectors,
  enumAttribute,
  intAttribute,
  locateAttributes,
  nameAttribute,
  responseAttributes,
} from './client-attributes.js';
import { protocolVersionItem, type ProtocolVersion } from './messages.js';

export type AlgorithmName = keyof typeof CryptographicAlgorithm;
export type UsageName = keyof typeof CryptographicUsageMask;
export type ObjectTypeName = keyof typeof ObjectType;
export type StateName = keyof typeof State;
export type RevocationReasonName = keyof typeof RevocationReasonCode;
export type QueryFunctionName = keyof typeof QueryFunction;
export type { KmipManagedObject };

export interface KmipClientOptions {
  /** The servers of one KMIP cluster, tried in order (failover on connection failure or timeout). */
  readonly servers: readonly KmipEndpoint[];
  /** PEM: the CA of the servers' certificates, the client certificate and its key. */
  readonly ca: string | Buffer;
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  /** Name to check the server certificate against, when it is not the host the client dials. */
  readonly servername?: string;
  /** The protocol version of requests: default 1.2; 'negotiate' asks the server with DiscoverVersions. */
  readonly protocolVersion?: ProtocolVersion | 'negotiate';
  /** Per connection attempt and per request (default 10 s). */
  readonly timeoutMs?: number;
  /** Persistent connections per server (default 4). */
  readonly poolSize?: number;
  /** Largest response accepted (default 1 MiB). */
  readonly maxMessageBytes?: number;
  readonly logger?: Logger;
}

export interface CreateKeyOptions {
  readonly algorithm: AlgorithmName;
  readonly length: number;
  /** A mask number or the names of its bits, e.g. ['Encrypt', 'Decrypt']. */
  readonly usageMask: number | readonly UsageName[];
  readonly name?: string;
}

export interface LocateOptions {
  readonly name?: string;
  readonly objectType?: ObjectTypeName;
  readonly state?: StateName;
  readonly maxItems?: number;
  readonly offsetItems?: number;
}

export interface QueryResult {
  readonly operations: string[];
  readonly objectTypes: string[];
  readonly vendorIdentification: string | undefined;
  /** Server Information as sent (its content is vendor-defined). */
  readonly serverInformation: TtlvItem | undefined;
}

/** The versions the client speaks, best first (offered in DiscoverVersions). */
export const CLIENT_PROTOCOL_VERSIONS: readonly ProtocolVersion[] = Object.freeze([
  { major: 2, minor: 1 },
  { major: 2, minor: 0 },
  { major: 1, minor: 4 },
  { major: 1, minor: 3 },
  { major: 1, minor: 2 },
  { major: 1, minor: 1 },
  { major: 1, minor: 0 },
]);

export const DEFAULT_PROTOCOL_VERSION: ProtocolVersion = Object.freeze({ major: 1, minor: 2 });

function usageMaskValue(mask: number | readonly UsageName[]): number {
  if (typeof mask === 'number') {
    if (!Number.isInteger(mask) || mask < 0 || mask > 0xffffffff)
      throw new KmipClientError('argument_invalid', 'usageMask must be a 32-bit mask');
    return mask;
  }
  let v = 0;
  for (const n of mask) {
    const bit = CryptographicUsageMask[n] as number | undefined;
    if (bit === undefined)
      throw new KmipClientError('argument_invalid', `unknown usage ${JSON.stringify(n)}`);
    v |= bit;
  }
  return v >>> 0;
}

function enumValue<T extends Record<string, number>>(table: T, name: string, what: string): number {
  const v = (table as Record<string, number>)[name];
  if (v === undefined)
    throw new KmipClientError('argument_invalid', `unknown ${what} ${JSON.stringify(name)}`);
  return v;
}

function requireId(id: string): string {
  if (typeof id !== 'string' || id.length === 0)
    throw new KmipClientError('argument_invalid', 'a unique identifier is a non-empty string');
  return id;
}

export class KmipClient {
  readonly #pool: KmipPool;
  readonly #maxMessageBytes: number;
  readonly #logger: Logger | undefined;
  #version: ProtocolVersion;
  #negotiation: Promise<ProtocolVersion> | undefined;

  constructor(opts: KmipClientOptions) {
    this.#maxMessageBytes = opts.maxMessageBytes ?? 1024 * 1024;
    this.#logger = opts.logger;
    this.#pool = new KmipPool({
      servers: opts.servers,
      tls: createKmipTlsContext({
        ca: opts.ca,
        cert: opts.cert,
        key: opts.key,
        ...(opts.servername ? { servername: opts.servername } : {}),
      }),
      timeoutMs: opts.timeoutMs ?? 10_000,
      poolSize: opts.poolSize ?? 4,
      maxMessageBytes: this.#maxMessageBytes,
      onFailover: (from, err) =>
        this.#logger?.warn(
          { server: endpointName(from), code: err.code },
          'KMIP server failed; trying the next one',
        ),
    });
    const pv = opts.protocolVersion ?? DEFAULT_PROTOCOL_VERSION;
    if (pv === 'negotiate') {
      this.#version = DEFAULT_PROTOCOL_VERSION;
      this.#negotiation = undefined;
    } else {
      if (!CLIENT_PROTOCOL_VERSIONS.some((c) => c.major === pv.major && c.minor === pv.minor)) {
        throw new KmipClientError(
          'argument_invalid',
          `KMIP ${String(pv.major)}.${String(pv.minor)} is not a version this client speaks`,
        );
      }
      this.#version = { major: pv.major, minor: pv.minor };
      this.#negotiation = Promise.resolve(this.#version);
    }
  }

  /** The protocol version of requests (after negotiation, when it was asked for). */
  get protocolVersion(): ProtocolVersion {
    return this.#version;
  }

  /** The server the next request goes to first (the last one that answered). */
  get currentServer(): KmipEndpoint {
    return this.#pool.currentServer;
  }

  /** Connections open now, per server. */
  openConnections(): number[] {
    return this.#pool.openConnections();
  }

  close(): void {
    this.#pool.close();
  }

  /**
   * DiscoverVersions: the versions the server supports among `versions` (default: every version
   * the client speaks), best first. Sent at KMIP 1.1, the first
   * version that has the operation.
   */
  async discoverVersions(
    versions: readonly ProtocolVersion[] = CLIENT_PROTOCOL_VERSIONS,
  ): Promise<ProtocolVersion[]> {
    const payload = await this.#call(Operation.DiscoverVersions, versions.map(protocolVersionItem), {
      major: 1,
      minor: 1,
    });
    return readPayload('DiscoverVersions', () =>
      children(payload, Tag.ProtocolVersion).map((pv) => ({
        major: reqInt(pv, Tag.ProtocolVersionMajor),
        minor: reqInt(pv, Tag.ProtocolVersionMinor),
      })),
    );
  }

  /** Query: what the server supports (operations and object types) and who it is. */
  async query(
    functions: readonly QueryFunctionName[] = ['QueryOperations', 'QueryObjects', 'QueryServerInformation'],
  ): Promise<QueryResult> {
    const items = functions.map((f) =>
      enumItem(Tag.QueryFunction, enumValue(QueryFunction, f, 'query function')),
    );
    const payload = await this.#call(Operation.Query, items);
    return readPayload('Query', () => ({
      operations: children(payload, Tag.Operation).map((o) => nameOf(OPERATION_DEF, asEnum(o))),
      objectTypes: children(payload, Tag.ObjectType).map((o) => nameOf(OBJECT_TYPE_DEF, asEnum(o))),
      vendorIdentification: getText(payload, Tag.VendorIdentification),
      serverInformation: child(payload, Tag.ServerInformation),
    }));
  }

  /** Create a symmetric key; returns its Unique Identifier. */
  async create(opts: CreateKeyOptions): Promise<string> {
    if (!Number.isInteger(opts.length) || opts.length <= 0)
      throw new KmipClientError('argument_invalid', 'length must be a positive number of bits');
    const attrs: KmipAttribute[] = [
      enumAttribute(
        'Cryptographic Algorithm',
        enumValue(CryptographicAlgorithm, opts.algorithm, 'algorithm'),
      ),
      intAttribute('Cryptographic Length', opts.length),
      intAttribute('Cryptographic Usage Mask', usageMaskValue(opts.usageMask)),
    ];
    if (opts.name !== undefined) attrs.push(nameAttribute(opts.name));
    const v = await this.#negotiated();
    const payload = await this.#call(Operation.Create, [
      enumItem(Tag.ObjectType, ObjectType.SymmetricKey),
      attributeGroup(v, attrs),
    ]);
    return reqText(payload, Tag.UniqueIdentifier);
  }

  /**
   * Register Secret Data (e.g. an escrow passphrase); returns its Unique Identifier. The request
   * buffer that held the bytes is zeroed; the caller still owns (and zeroes) `secret`.
   */
  async registerSecretData(secret: Uint8Array | SecretBytes, name?: string): Promise<string> {
    const v = await this.#negotiated();
    const attrs: KmipAttribute[] = [intAttribute('Cryptographic Usage Mask', CryptographicUsageMask.Export)];
    if (name !== undefined) attrs.push(nameAttribute(name));
    const raw = secret instanceof SecretBytes ? secret.bytes() : secret;
    try {
      const object = struct(Tag.SecretData, [
        enumItem(Tag.SecretDataType, SecretDataType.Password),
        struct(Tag.KeyBlock, [
          enumItem(Tag.KeyFormatType, KeyFormatType.Opaque),
          struct(Tag.KeyValue, [bytes(Tag.KeyMaterial, raw)]),
        ]),
      ]);
      const payload = await this.#call(
        Operation.Register,
        [enumItem(Tag.ObjectType, ObjectType.SecretData), attributeGroup(v, attrs), object],
        undefined,
        {
          sensitiveRequest: true,
        },
      );
      return reqText(payload, Tag.UniqueIdentifier);
    } finally {
      if (secret instanceof SecretBytes) raw.fill(0);
    }
  }

  /** Activate: Pre-Active → Active. */
  async activate(id: string): Promise<void> {
    await this.#call(Operation.Activate, [text(Tag.UniqueIdentifier, requireId(id))]);
  }

  /** Get a symmetric key or secret data; its bytes come in a SecretBytes the caller disposes. */
  async get(id: string): Promise<KmipManagedObject> {
    const payload = await this.#call(Operation.Get, [text(Tag.UniqueIdentifier, requireId(id))], undefined, {
      sensitiveResponse: true,
    });
    try {
      return readPayload('Get', () => readManagedObject(payload));
    } finally {
      zeroByteStrings(payload);
    }
  }

  /**
   * GetAttributes: every attribute, or those named (1.x names, e.g. 'State', 'Cryptographic
   * Length', 'x-Vendor'). Values are tagged Attribute Value, whatever the wire version.
   */
  async getAttributes(id: string, names: readonly string[] = []): Promise<KmipAttribute[]> {
    const v = await this.#negotiated();
    const payload = await this.#call(Operation.GetAttributes, [
      text(Tag.UniqueIdentifier, requireId(id)),
      ...attributeSelectors(v, names),
    ]);
    return readPayload('GetAttributes', () => responseAttributes(payload));
  }

  /** Locate: the identifiers of objects that match every given criterion. */
  async locate(opts: LocateOptions = {}): Promise<string[]> {
    const v = await this.#negotiated();
    const head: TtlvItem[] = [];
    if (opts.maxItems !== undefined) head.push(int(Tag.MaximumItems, opts.maxItems));
    if (opts.offsetItems !== undefined) head.push(int(Tag.OffsetItems, opts.offsetItems));
    const attrs: KmipAttribute[] = [];
    if (opts.objectType !== undefined)
      attrs.push(enumAttribute('Object Type', enumValue(ObjectType, opts.objectType, 'object type')));
    if (opts.state !== undefined) attrs.push(enumAttribute('State', enumValue(State, opts.state, 'state')));
    if (opts.name !== undefined) attrs.push(nameAttribute(opts.name));
    const payload = await this.#call(Operation.Locate, [...head, ...locateAttributes(v, attrs)]);
    return readPayload('Locate', () => children(payload, Tag.UniqueIdentifier).map(asText));
  }

  /**
   * Revoke with a reason: KeyCompromise (and CACompromise) → Compromised, with the compromise
   * occurrence date set to now; any other reason → Deactivated.
   */
  async revoke(id: string, reason: RevocationReasonName, message?: string): Promise<void> {
    const code = enumValue(RevocationReasonCode, reason, 'revocation reason');
    const reasonItems: TtlvItem[] = [enumItem(Tag.RevocationReasonCode, code)];
    if (message !== undefined) reasonItems.push(text(Tag.RevocationMessage, message));
    const items: TtlvItem[] = [
      text(Tag.UniqueIdentifier, requireId(id)),
      struct(Tag.RevocationReason, reasonItems),
    ];
    if (code === RevocationReasonCode.KeyCompromise || code === RevocationReasonCode.CACompromise) {
      items.push(dateTime(Tag.CompromiseOccurrenceDate, BigInt(Math.floor(Date.now() / 1000))));
    }
    await this.#call(Operation.Revoke, items);
  }

  /** Destroy (servers refuse an Active object: revoke it first). */
  async destroy(id: string): Promise<void> {
    await this.#call(Operation.Destroy, [text(Tag.UniqueIdentifier, requireId(id))]);
  }

  async #negotiated(): Promise<ProtocolVersion> {
    if (this.#negotiation === undefined) {
      const p = this.discoverVersions().then((versions) => {
        const best = versions.find((s) =>
          CLIENT_PROTOCOL_VERSIONS.some((c) => c.major === s.major && c.minor === s.minor),
        );
        if (best === undefined)
          throw new KmipError(
            'unsupported_protocol_version',
            'the server supports none of the KMIP versions this client speaks',
          );
        this.#version = best;
        return best;
      });
      // A failed negotiation is retried by the next request.
      p.catch(() => (this.#negotiation = undefined));
      this.#negotiation = p;
    }
    return this.#negotiation;
  }

  /**
   * Sends one operation and returns its response payload (an empty structure when the server sent
   * none). `sensitiveRequest` zeroes the encoded request afterwards; `sensitiveResponse` zeroes the
   * raw response (the caller zeroes the decoded byte strings).
   */
  async #call(
    operation: number,
    payloadItems: readonly TtlvItem[],
    version?: ProtocolVersion,
    opts: { sensitiveRequest?: boolean; sensitiveResponse?: boolean } = {},
  ): Promise<StructureItem> {
    const v = version ?? (await this.#negotiated());
    const request = encodeSingleRequest(v, operation, payloadItems);
    let raw: Buffer;
    try {
      raw = await this.#pool.request(request);
    } finally {
      if (opts.sensitiveRequest) request.fill(0);
    }
    try {
      return parseSingleResponse(raw, operation, this.#maxMessageBytes);
    } finally {
      if (opts.sensitiveResponse) raw.fill(0);
    }
  }
}
