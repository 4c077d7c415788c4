/**
 * The last N task latencies, for percentiles in stats and /metrics without a histogram library
 * in the runtime. Fixed memory; percentiles are computed on read (reads are rare, records are not).
 */
export class LatencyWindow {
  private readonly samples: Float64Array;
  private next = 0;
  private filled = 0;
  count = 0;
  sum = 0;
  max = 0;

  constructor(size = 1_024) {
    this.samples = new Float64Array(size);
  }

  record(ms: number): void {
    this.samples[this.next] = ms;
    this.next = (this.next + 1) % this.samples.length;
    if (this.filled < this.samples.length) this.filled++;
    this.count++;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
  }

  /** `{count, sum, max}` over all time; p50/p99 over the window (0 when empty). */
  summary(): { count: number; sum_ms: number; max_ms: number; p50_ms: number; p99_ms: number } {
    const sorted = this.samples.slice(0, this.filled).sort();
    const at = (q: number) =>
      sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
    return { count: this.count, sum_ms: this.sum, max_ms: this.max, p50_ms: at(0.5), p99_ms: at(0.99) };
  }
}
