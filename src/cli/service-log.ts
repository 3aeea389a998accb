/**
 * The merged log of `cryptvisor up`: each line a service writes (pino JSON on stderr, plain text
 * on stdout) becomes one readable line tagged with the service, `[center] 02:41:03 INFO msg k=v`.
 */

const LEVELS: Readonly<Record<number, string>> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
const SKIP = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'service', 'v']);

function value(v: unknown): string {
  if (typeof v === 'string') return /[\s"=]/.test(v) ? JSON.stringify(v) : v;
  return JSON.stringify(v) ?? String(v);
}

/** One line of a service's output, rendered for the merged log (without its line ending). */
export function renderLogLine(service: string, line: string): string {
  const tag = `[${service}]`;
  if (!line.startsWith('{')) return `${tag} ${line}`;
  let rec: Record<string, unknown>;
  try {
    const v = JSON.parse(line) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return `${tag} ${line}`;
    rec = v as Record<string, unknown>;
  } catch {
    return `${tag} ${line}`;
  }
  const time = typeof rec['time'] === 'string' ? (rec['time'].match(/T(\d\d:\d\d:\d\d)/)?.[1] ?? '') : '';
  const level = typeof rec['level'] === 'number' ? (LEVELS[rec['level']] ?? String(rec['level'])) : 'INFO';
  const msg = typeof rec['msg'] === 'string' ? rec['msg'] : '';
  const fields = Object.entries(rec)
    .filter(([k]) => !SKIP.has(k))
    .map(([k, v]) => `${k}=${value(v)}`);
  return [tag, time, level, msg, ...fields].filter((s) => s.length > 0).join(' ');
}

/** Splits a byte stream into lines; `flush` returns a last line without its newline. */
export class LineSplitter {
  #rest = '';

  push(chunk: Buffer | string): string[] {
    const text = this.#rest + chunk.toString();
    const lines = text.split('\n');
    this.#rest = lines.pop() ?? '';
    return lines.map((l) => l.replace(/\r$/, ''));
  }

  flush(): string[] {
    const r = this.#rest;
    this.#rest = '';
    return r.length > 0 ? [r] : [];
  }
}
