/**
 * Test support: the OASIS KMIP XML vectors kept in the repository under test/vectors/kmip (their
 * README names the source; the OASIS headers are kept). Tests never read ../shared.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The repository's copy of the OASIS vectors (test/vectors/kmip, see its README). */
export const VECTORS_DIR = new URL('../../../test/vectors/kmip/', import.meta.url).pathname;

export function vectorFiles(dir = VECTORS_DIR): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...vectorFiles(p));
    else if (name.endsWith('.xml')) out.push(p);
  }
  return out.sort();
}

/** The message elements of a vector file (a few OASIS files have stray text or a doubled </KMIP>). */
export function vectorMessages(file: string): { name: string; xml: string }[] {
  const body = readFileSync(file, 'utf8').replace(/<!--[\s\S]*?-->/g, '');
  return [...body.matchAll(/<(RequestMessage|ResponseMessage)>[\s\S]*?<\/\1>/g)].map((m) => ({
    name: m[1]!,
    xml: m[0],
  }));
}
