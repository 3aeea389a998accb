import { decodeTtlv, encodeTtlv, jsonToTtlv, ttlvToJson, ttlvToXml, xmlToTtlv, type TtlvItem } from '../kmip/index.js';

/**
 * The message encodings of KMIP over HTTPS, by Content-Type (KMIP Additional Message Encodings):
 * binary TTLV, and the JSON and XML encodings of the KMIP library.
 */
export interface MessageEncoding {
  readonly contentType: string;
  /** Binary TTLV goes straight to the dispatcher's byte path. */
  readonly binary: boolean;
  decode(body: Buffer, limits: { maxMessageBytes: number; maxDepth: number }): TtlvItem;
  encode(item: TtlvItem): Buffer;
}

const ttlv: MessageEncoding = {
  contentType: 'application/octet-stream',
  binary: true,
  decode: (b, limits) => decodeTtlv(b, limits),
  encode: (i) => encodeTtlv(i),
};

const json: MessageEncoding = {
  contentType: 'application/json',
  binary: false,
  decode: (b, limits) => jsonToTtlv(b.toString('utf8'), limits),
  encode: (i) => Buffer.from(ttlvToJson(i), 'utf8'),
};

const xml: MessageEncoding = {
  contentType: 'text/xml',
  binary: false,
  decode: (b, limits) => xmlToTtlv(b.toString('utf8'), { limits }),
  encode: (i) => Buffer.from(ttlvToXml(i), 'utf8'),
};

export const ENCODINGS: ReadonlyMap<string, MessageEncoding> = new Map([
  [ttlv.contentType, ttlv],
  [json.contentType, json],
  [xml.contentType, xml],
  ['application/xml', xml],
]);
