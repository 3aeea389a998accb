/**
 * The OASIS KMIP XML test vectors kept in test/vectors/kmip/ (see its README): each file is a list
 * of request/expected-response pairs. This file finds them, names their profile and version, and
 * splits them into messages; placeholders are handled by placeholders.ts, comparison by compare.ts.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';

export interface VectorFile {
  /** Path relative to the vectors directory, e.g. `v1.4/mandatory/SKLC-M-1-14.xml`. */
  readonly path: string;
  /** File name without `.xml`, e.g. `SKLC-M-1-14`. */
  readonly name: string;
  /** The profile test family, e.g. `SKLC-M`, `TC-Q-CAP`. */
  readonly profile: string;
  /** KMIP version from the suffix, e.g. `1.4`. */
  readonly version: string;
  readonly exchanges: readonly Exchange[];
}

export interface Exchange {
  /** Index in the file, from 0. */
  readonly index: number;
  /** The `<RequestMessage>…</RequestMessage>` element text, placeholders unresolved. */
  readonly request: string;
  /** The `<ResponseMessage>…</ResponseMessage>` element text. */
  readonly response: string;
}

/** The vectors directory in the source tree (dist/test/kmip-conformance → test/vectors/kmip). */
export function vectorsDir(): string {
  return new URL('../../../test/vectors/kmip/', import.meta.url).pathname;
}

const NAME = /^(.*)-\d+-(\d)(\d)$/;

export function parseVectorName(name: string): { profile: string; version: string } {
  const m = NAME.exec(name);
  if (!m) throw new Error(`vector file name without a -N-VV suffix: ${name}`);
  return { profile: m[1]!, version: `${m[2]}.${m[3]}` };
}

const ELEMENT = /<(RequestMessage|ResponseMessage)>[\s\S]*?<\/\1>/g;

export function parseVectorText(path: string, text: string): VectorFile {
  const name = basename(path).replace(/\.xml$/, '');
  const { profile, version } = parseVectorName(name);
  const body = text.replace(/<!--[\s\S]*?-->/g, '');
  const elements = [...body.matchAll(ELEMENT)];
  const exchanges: Exchange[] = [];
  for (let i = 0; i < elements.length; i += 2) {
    const req = elements[i]!;
    const res = elements[i + 1];
    if (req[1] !== 'RequestMessage' || !res || res[1] !== 'ResponseMessage') {
      throw new Error(`${path}: messages do not alternate request/response at element ${i}`);
    }
    exchanges.push({ index: exchanges.length, request: req[0], response: res[0] });
  }
  if (exchanges.length === 0) throw new Error(`${path}: no request/response pairs`);
  return { path, name, profile, version, exchanges };
}

function walk(dir: string, out: string[]): string[] {
  for (const entry of readdirSync(dir).sort()) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (entry.endsWith('.xml')) out.push(p);
  }
  return out;
}

/** Every vector file under `dir`, sorted by path; `filter` selects by substring of the path. */
export function loadVectorFiles(dir = vectorsDir(), filter?: (path: string) => boolean): VectorFile[] {
  return walk(dir, [])
    .map((p) => relative(dir, p))
    .filter((p) => !filter || filter(p))
    .map((p) => parseVectorText(p, readFileSync(join(dir, p), 'utf8')));
}
