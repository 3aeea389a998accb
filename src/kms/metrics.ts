/**
 * The KMS's Prometheus metrics, kept as plain counters (no dependency) and rendered in the
 * text exposition format 0.0.4 on `GET /metrics`.
 */
const BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

interface Histogram {
  readonly counts: number[];
  sum: number;
  count: number;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export class KmsMetrics {
  private readonly operations = new Map<string, number>();
  private readonly durations = new Map<string, Histogram>();
  private readonly rejected = new Map<string, number>();
  private connectionsOpen = 0;
  private connectionsTotal = 0;
  private httpRequests = 0;
  private readonly started = Date.now();

  /** One batch item finished: its operation name, result status name and duration. */
  operation(op: string, result: string, seconds: number): void {
    const key = `${op}\u0000${result}`;
    this.operations.set(key, (this.operations.get(key) ?? 0) + 1);
    let h = this.durations.get(op);
    if (!h) {
      h = { counts: BUCKETS_SECONDS.map(() => 0), sum: 0, count: 0 };
      this.durations.set(op, h);
    }
    for (let i = 0; i < BUCKETS_SECONDS.length; i++) if (seconds <= (BUCKETS_SECONDS[i] as number)) h.counts[i] = (h.counts[i] as number) + 1;
    h.sum += seconds;
    h.count++;
  }

  connectionOpened(): void {
    this.connectionsOpen++;
    this.connectionsTotal++;
  }

  connectionClosed(): void {
    this.connectionsOpen--;
  }

  /** A connection or message refused before dispatch (handshake, EKU, oversize, garbage). */
  reject(reason: string): void {
    this.rejected.set(reason, (this.rejected.get(reason) ?? 0) + 1);
  }

  httpRequest(): void {
    this.httpRequests++;
  }

  /** The count of one operation/result pair (for tests and health). */
  count(op: string, result: string): number {
    return this.operations.get(`${op}\u0000${result}`) ?? 0;
  }

  render(): string {
    const lines: string[] = [];
    lines.push('# HELP cryptvisor_kms_operations_total KMIP batch items processed, by operation and result status.');
    lines.push('# TYPE cryptvisor_kms_operations_total counter');
    for (const [key, n] of [...this.operations].sort()) {
      const [op, result] = key.split('\u0000') as [string, string];
      lines.push(`cryptvisor_kms_operations_total{operation="${escapeLabel(op)}",result="${escapeLabel(result)}"} ${n}`);
    }
    lines.push('# HELP cryptvisor_kms_operation_duration_seconds Time to process one KMIP batch item.');
    lines.push('# TYPE cryptvisor_kms_operation_duration_seconds histogram');
    for (const [op, h] of [...this.durations].sort()) {
      const l = `operation="${escapeLabel(op)}"`;
      BUCKETS_SECONDS.forEach((b, i) => lines.push(`cryptvisor_kms_operation_duration_seconds_bucket{${l},le="${b}"} ${h.counts[i]}`));
      lines.push(`cryptvisor_kms_operation_duration_seconds_bucket{${l},le="+Inf"} ${h.count}`);
      lines.push(`cryptvisor_kms_operation_duration_seconds_sum{${l}} ${h.sum}`);
      lines.push(`cryptvisor_kms_operation_duration_seconds_count{${l}} ${h.count}`);
    }
    lines.push('# HELP cryptvisor_kms_rejected_total Connections or messages refused before dispatch, by reason.');
    lines.push('# TYPE cryptvisor_kms_rejected_total counter');
    for (const [reason, n] of [...this.rejected].sort()) lines.push(`cryptvisor_kms_rejected_total{reason="${escapeLabel(reason)}"} ${n}`);
    lines.push('# HELP cryptvisor_kms_connections_open TLS connections currently open.');
    lines.push('# TYPE cryptvisor_kms_connections_open gauge');
    lines.push(`cryptvisor_kms_connections_open ${this.connectionsOpen}`);
    lines.push('# HELP cryptvisor_kms_connections_total TLS connections accepted.');
    lines.push('# TYPE cryptvisor_kms_connections_total counter');
    lines.push(`cryptvisor_kms_connections_total ${this.connectionsTotal}`);
    lines.push('# HELP cryptvisor_kms_http_requests_total HTTPS requests served.');
    lines.push('# TYPE cryptvisor_kms_http_requests_total counter');
    lines.push(`cryptvisor_kms_http_requests_total ${this.httpRequests}`);
    lines.push('# HELP cryptvisor_kms_uptime_seconds Seconds since the service started.');
    lines.push('# TYPE cryptvisor_kms_uptime_seconds gauge');
    lines.push(`cryptvisor_kms_uptime_seconds ${(Date.now() - this.started) / 1000}`);
    return lines.join('\n') + '\n';
  }
}
