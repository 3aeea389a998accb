/**
 * What the first bytes of a connection are: a KMIP TTLV message starts with the first byte of a
 * standard tag (0x42, RequestMessage is 0x420078); an HTTP request starts with an ASCII method
 * and a space. One byte decides TTLV; HTTP needs the method token, so up to 8 bytes are looked at.
 */
export type Sniffed = 'ttlv' | 'http' | 'unknown' | 'need-more';

const METHODS = ['GET ', 'POST ', 'PUT ', 'HEAD ', 'DELETE ', 'OPTIONS ', 'PATCH ', 'CONNECT ', 'TRACE '];
const LONGEST = Math.max(...METHODS.map((m) => m.length));

export function sniff(first: Uint8Array): Sniffed {
  if (first.length === 0) return 'need-more';
  if (first[0] === 0x42) return 'ttlv';
  const head = Buffer.from(first.subarray(0, LONGEST)).toString('latin1');
  let partial = false;
  for (const m of METHODS) {
    if (head.startsWith(m)) return 'http';
    if (m.startsWith(head)) partial = true;
  }
  return partial ? 'need-more' : 'unknown';
}
