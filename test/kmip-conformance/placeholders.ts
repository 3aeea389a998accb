/**
 * The placeholders of the OASIS vectors (see test/vectors/kmip/README.md):
 * - `$NOW`, `$NOW+N`, `$NOW-N` (DateTime): in a request, the current time (± N seconds); in an
 *   expected response, any time (the server's clock);
 * - `$UNIQUE_IDENTIFIER_n` (TextString): the n-th identifier the server returned, bound on first sight
 *   in a response and substituted into later requests;
 * - `$SHORT_UNIQUE_IDENTIFIER_n`, `$KEY_MATERIAL`, `$KEY_VALUE` (ByteString): server-chosen bytes.
 *
 * Placeholders are resolved on the XML text before the library parses it: DateTime and ByteString
 * placeholders of expected responses become sentinel values that compare.ts recognises.
 */

/** A DateTime no real response carries: the expected value of `$NOW` in responses. */
export const ANY_DATETIME_ISO = '2999-12-31T23:59:59+00:00';
export const ANY_DATETIME = BigInt(Date.parse(ANY_DATETIME_ISO) / 1000);
/** Sentinel byte strings stand for server-chosen bytes: this prefix, then one byte of index. */
export const ANY_BYTES_PREFIX = '5e7e1a4e0b1ec7';

export class Bindings {
  private readonly ids = new Map<string, string>();

  get(name: string): string | undefined {
    return this.ids.get(name);
  }

  /** Binds `name` to `value`, or checks it against an earlier binding; returns an error text or undefined. */
  bind(name: string, value: string): string | undefined {
    const had = this.ids.get(name);
    if (had === undefined) {
      for (const [other, v] of this.ids) {
        if (v === value) return `${name} would bind to "${value}", already bound to ${other}`;
      }
      this.ids.set(name, value);
      return undefined;
    }
    return had === value ? undefined : `expected ${name} = "${had}", got "${value}"`;
  }

  clone(): Bindings {
    const b = new Bindings();
    for (const [k, v] of this.ids) b.ids.set(k, v);
    return b;
  }

  assign(from: Bindings): void {
    this.ids.clear();
    for (const [k, v] of from.ids) this.ids.set(k, v);
  }
}

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const NOW = /value="\$NOW(?:([+-])(\d+))?"/g;
const UID = /value="\$UNIQUE_IDENTIFIER_(\d+)"/g;

/** The request XML with every placeholder replaced; throws when it names an identifier not yet bound. */
export function resolveRequest(xml: string, bindings: Bindings, nowMs = Date.now()): string {
  return xml
    .replace(NOW, (_m, sign: string | undefined, secs: string | undefined) => {
      const offset = secs === undefined ? 0 : (sign === '-' ? -1 : 1) * Number(secs) * 1000;
      return `value="${isoSeconds(nowMs + offset)}"`;
    })
    .replace(UID, (_m, n: string) => {
      const v = bindings.get(`$UNIQUE_IDENTIFIER_${n}`);
      if (v === undefined) throw new Error(`the request uses $UNIQUE_IDENTIFIER_${n}, which no earlier response bound`);
      return `value="${xmlEscape(v)}"`;
    });
}

const BYTES_PLACEHOLDER = /type="ByteString" value="\$([A-Z_]+\d*)"/g;

/** The expected-response XML with DateTime and ByteString placeholders replaced by sentinels. */
export function resolveExpected(xml: string): string {
  let n = 0;
  return xml
    .replace(NOW, () => `value="${ANY_DATETIME_ISO}"`)
    .replace(BYTES_PLACEHOLDER, () => `type="ByteString" value="${ANY_BYTES_PREFIX}${(n++ & 0xff).toString(16).padStart(2, '0')}"`);
}

export function isAnyBytes(hex: string): boolean {
  return hex.length === ANY_BYTES_PREFIX.length + 2 && hex.startsWith(ANY_BYTES_PREFIX);
}
