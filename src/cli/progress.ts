/**
 * Progress for long operations: a bar redrawn in place on a terminal, nothing otherwise (scripts
 * and --json output stay clean).
 */
import { formatSize } from '../common/size.js';

export interface Progress {
  update(done: number, total: number): void;
  done(): void;
}

export function progressBar(stream: NodeJS.WritableStream, isTTY: boolean, label: string): Progress {
  if (!isTTY) return { update: () => undefined, done: () => undefined };
  let last = 0;
  let drawn = false;
  const width = 30;
  return {
    update(done, total) {
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      const frac = total > 0 ? Math.min(1, done / total) : 1;
      const fill = Math.round(frac * width);
      stream.write(
        `\r${label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${(frac * 100).toFixed(0).padStart(3)}% ${formatSize(done)} / ${formatSize(total)}`,
      );
      drawn = true;
    },
    done() {
      if (drawn) stream.write('\n');
    },
  };
}
