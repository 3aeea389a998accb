import { decodeTtlv, encodeTtlv, type TtlvItem } from '../kmip/index.js';

/**
 * The message encodings of KMIP over HTTPS, by Content-Type (KMIP Additional Message Encodings):
 * binary TTLV, and the JSON and XML encodings from the KMIP library.
 */
export interface MessageEncoding {
  readonly contentType: string;
  /** Binary TTLV goes straight to the dispatcher's byte path. */
  readonly binary: boolean;
  decode(body: Buffer): TtlvItem;
  encode(item: TtlvItem): Buffer;
}

const ttlv: MessageEncoding = {
  contentType: 'application/octet-stream',
  binary: true,
  decode: (b) => decodeTtlv(b),
  encode: (i) => encodeTtlv(i),
};

export const ENCODINGS: ReadonlyMap<string, MessageEncoding> = new Map([[ttlv.contentType, ttlv]]);
