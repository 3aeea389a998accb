/** Tag names for mismatch paths: the first name the table gives a tag (BatchItem, not its Request/Response aliases). */
import { Tag } from '../../src/kmip/index.js';

const NAMES = new Map<number, string>();
for (const [name, tag] of Object.entries(Tag)) if (!NAMES.has(tag)) NAMES.set(tag, name);

export function tagName(tag: number): string {
  return NAMES.get(tag) ?? `0x${tag.toString(16).padStart(6, '0')}`;
}
