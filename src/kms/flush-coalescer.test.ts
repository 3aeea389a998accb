import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AuditRecord } from './store/types.js';
import { CoalescingAudit } from './flush-coalescer.js';

/** A sink that writes batches to an array after a delay, like a durable store would. */
class SlowSink {
  readonly batches: AuditRecord[][] = [];
  private pending: AuditRecord[] = [];
  append(r: AuditRecord): void {
    this.pending.push(r);
  }
  async flush(): Promise<void> {
    const b = this.pending;
    this.pending = [];
    await new Promise((r) => setTimeout(r, 10));
    if (b.length > 0) this.batches.push(b);
  }
}

test('audit flushes asked for concurrently share writes, and each covers its own records', async () => {
  const sink = new SlowSink();
  const audit = new CoalescingAudit(sink);
  const waits: Promise<void>[] = [];
  for (let i = 0; i < 32; i++) {
    audit.append({ identity: 'CN=a', operation: 'Create', objectId: String(i), result: 'Success' });
    const done = audit.flush().then(() => {
      assert.ok(sink.batches.flat().some((r) => r.objectId === String(i)), `record ${i} durable when its flush resolves`);
    });
    waits.push(done);
  }
  await Promise.all(waits);
  assert.equal(sink.batches.flat().length, 32);
  assert.ok(sink.batches.length <= 2, `${sink.batches.length} writes for 32 flushes`);
});
