import type { AuditSink } from './dispatch.js';
import type { AuditRecord } from './store/types.js';

/**
 * Makes concurrent audit flushes share one durable write: a flush asked for while another runs
 * waits for it, then one flush covers every record appended meanwhile. With 32 clients creating
 * keys this turns 32 audit transactions into about one per store commit.
 */
export class CoalescingAudit implements AuditSink {
  private running: Promise<void> = Promise.resolve();
  private next: Promise<void> | undefined;

  constructor(private readonly inner: AuditSink) {}

  append(rec: AuditRecord): void {
    this.inner.append(rec);
  }

  flush(): Promise<void> {
    this.next ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.next = undefined;
        this.running = this.inner.flush();
        return this.running;
      });
    return this.next;
  }
}
