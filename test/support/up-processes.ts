/** The processes of a `cryptvisor up` under test: pid files of D/run, liveness, and waiting. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The PID in D/run/NAME.pid, or undefined when there is none (or it is not a PID). */
export function pidOf(data: string, name: string): number | undefined {
  try {
    const n = Number(readFileSync(join(data, 'run', `${name}.pid`), 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

export function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls check every 100 ms until it holds; fails naming `what` after ms. */
export async function waitFor(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
