/**
 * A small, strict XML parser for the KMIP XML encoding: elements, attributes, comments, the XML
 * declaration and character/entity references. Text between elements must be whitespace (the KMIP
 * XML encoding carries every value in attributes). DOCTYPE, CDATA and processing instructions other
 * than the declaration are refused, so no entity expansion can happen. Any malformation throws
 * KmipError('invalid_message'); depth and size are limited like the TTLV decoder.
 */
import { KmipError } from './errors.js';
import { DEFAULT_TTLV_LIMITS, depthLimit, type TtlvLimits } from './ttlv.js';

export interface XmlElement {
  readonly name: string;
  readonly attrs: ReadonlyMap<string, string>;
  readonly children: readonly XmlElement[];
  /** Offset of the element's `<` in the source, for error messages. */
  readonly offset: number;
}

const NAME_START = /[A-Za-z_:]/;
const NAME_REST = /[A-Za-z0-9_:.-]*/y;

/** XML whitespace: space, tab, CR, LF. */
function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}

function bad(what: string, offset: number): KmipError {
  return new KmipError('invalid_message', `malformed XML at character ${offset}: ${what}`);
}

const NAMED_ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(raw: string, offset: number): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(/&([^;&\s]{1,10});|&/g, (m, body: string | undefined) => {
    if (body === undefined) throw bad('bare "&"', offset);
    const named = NAMED_ENTITIES[body];
    if (named !== undefined) return named;
    let cp: number;
    if (/^#x[0-9a-fA-F]{1,6}$/.test(body)) cp = Number.parseInt(body.slice(2), 16);
    else if (/^#[0-9]{1,7}$/.test(body)) cp = Number.parseInt(body.slice(1), 10);
    else throw bad(`unknown entity ${m}`, offset);
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      throw bad(`invalid character reference ${m}`, offset);
    return String.fromCodePoint(cp);
  });
}

class XmlParser {
  private pos = 0;

  constructor(
    private readonly src: string,
    private readonly maxDepth: number,
  ) {}

  private skipMisc(): void {
    const s = this.src;
    for (;;) {
      while (this.pos < s.length && isSpace(s.charCodeAt(this.pos))) this.pos++;
      if (s.startsWith('<!--', this.pos)) {
        const end = s.indexOf('-->', this.pos + 4);
        if (end < 0) throw bad('unterminated comment', this.pos);
        this.pos = end + 3;
      } else if (s.startsWith('<?xml', this.pos) && /[\s?]/.test(s[this.pos + 5] ?? '')) {
        const end = s.indexOf('?>', this.pos);
        if (end < 0) throw bad('unterminated XML declaration', this.pos);
        this.pos = end + 2;
      } else if (s.startsWith('<!', this.pos) || s.startsWith('<?', this.pos)) {
        throw bad('DOCTYPE, CDATA and processing instructions are not accepted', this.pos);
      } else return;
    }
  }

  private name(): string {
    const s = this.src;
    const start = this.pos;
    if (!NAME_START.test(s[this.pos] ?? '')) throw bad('expected a name', this.pos);
    NAME_REST.lastIndex = this.pos + 1;
    NAME_REST.test(s);
    this.pos = NAME_REST.lastIndex;
    return s.slice(start, this.pos);
  }

  private skipSpace(): boolean {
    const start = this.pos;
    while (this.pos < this.src.length && isSpace(this.src.charCodeAt(this.pos))) this.pos++;
    return this.pos > start;
  }

  private element(depth: number): XmlElement {
    const s = this.src;
    const offset = this.pos;
    if (depth > this.maxDepth) throw bad(`nesting deeper than ${this.maxDepth}`, offset);
    if (s[this.pos] !== '<') throw bad('expected "<"', this.pos);
    this.pos++;
    const name = this.name();
    const attrs = new Map<string, string>();
    for (;;) {
      const spaced = this.skipSpace();
      const c = s[this.pos];
      if (c === undefined) throw bad(`unterminated start tag <${name}>`, offset);
      if (c === '/') {
        if (s[this.pos + 1] !== '>') throw bad('expected "/>"', this.pos);
        this.pos += 2;
        return { name, attrs, children: [], offset };
      }
      if (c === '>') {
        this.pos++;
        break;
      }
      if (!spaced) throw bad('expected whitespace before an attribute', this.pos);
      const attrName = this.name();
      this.skipSpace();
      if (s[this.pos] !== '=') throw bad(`expected "=" after ${attrName}`, this.pos);
      this.pos++;
      this.skipSpace();
      const quote = s[this.pos];
      if (quote !== '"' && quote !== "'") throw bad('expected a quoted attribute value', this.pos);
      const end = s.indexOf(quote, this.pos + 1);
      if (end < 0) throw bad('unterminated attribute value', this.pos);
      const raw = s.slice(this.pos + 1, end);
      if (raw.includes('<')) throw bad('"<" in an attribute value', this.pos);
      if (attrs.has(attrName)) throw bad(`duplicate attribute ${attrName}`, this.pos);
      attrs.set(attrName, decodeEntities(raw, this.pos));
      this.pos = end + 1;
    }
    const children: XmlElement[] = [];
    for (;;) {
      this.skipMisc();
      if (this.pos >= s.length) throw bad(`unterminated element <${name}>`, offset);
      if (s.startsWith('</', this.pos)) {
        this.pos += 2;
        const close = this.name();
        if (close !== name) throw bad(`</${close}> closes <${name}>`, this.pos);
        this.skipSpace();
        if (s[this.pos] !== '>') throw bad('expected ">"', this.pos);
        this.pos++;
        return { name, attrs, children, offset };
      }
      if (s[this.pos] !== '<')
        throw bad(`text content in <${name}> (KMIP XML carries values in attributes)`, this.pos);
      children.push(this.element(depth + 1));
    }
  }

  document(): XmlElement {
    if (this.src.charCodeAt(0) === 0xfeff) this.pos = 1;
    this.skipMisc();
    if (this.pos >= this.src.length) throw bad('no root element', this.pos);
    const root = this.element(1);
    this.skipMisc();
    if (this.pos < this.src.length) throw bad('content after the root element', this.pos);
    return root;
  }
}

/** Parses an XML document with one root element. */
export function parseXml(src: string, limits: Partial<TtlvLimits> = {}): XmlElement {
  const max = limits.maxMessageBytes ?? DEFAULT_TTLV_LIMITS.maxMessageBytes;
  // The XML form of a message is several times its TTLV size: allow 8x the TTLV limit in characters.
  if (src.length > max * 8)
    throw new KmipError('message_too_large', `XML of ${src.length} characters exceeds the limit`);
  return new XmlParser(src, depthLimit(limits)).document();
}

/** Escapes a string for an XML attribute value (quotes, markup and whitespace other than space). */
export function escapeXmlAttr(s: string): string {
  return s.replace(/[&<>"'\u0000-\u001f\u007f]/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      case "'":
        return '&apos;';
      default:
        return `&#x${c.charCodeAt(0).toString(16)};`;
    }
  });
}
