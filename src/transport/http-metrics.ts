/**
 * HTTP request counts and latencies, recorded on every request. prom-client's own labelled
 * `inc()`/`observe()` validate and hash the labels on each call (about 1–2 µs each, measured in
 * docs/benchmarks.md), which is a visible share of a 30 µs request; here a request costs one Map
 * lookup, a few array writes and no allocation once its series exists. prom-client reads the
 * totals when it is scraped.
 */
import { Counter, type Registry } from 'prom-client';

/** Requests that matched no route (404s, and 401s decided before routing) share one label. */
export const UNMATCHED_ROUTE = '(unmatched)';

const HISTOGRAM = 'mailroom_http_request_duration_seconds';
const HISTOGRAM_HELP = 'Time from a request arriving to its reply being written, by method and route pattern';

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

interface Series {
  labels: { method: string; route: string };
  /** Requests by status. */
  byStatus: Map<number, number>;
  /** Per bucket (the last one is +Inf), not cumulative. */
  buckets: Float64Array;
  sum: number;
  count: number;
}

export class HttpMetrics {
  private readonly byRoute = new Map<string, Map<string, Series>>();
  private readonly series: Series[] = [];

  constructor(
    registry: Registry,
    private readonly bounds: readonly number[],
  ) {
    const series = this.series;
    new Counter({
      name: 'mailroom_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const s of series) {
          for (const [status, n] of s.byStatus) this.inc({ ...s.labels, status: String(status) }, n);
        }
      },
    });
    registry.registerMetric(this.histogram() as unknown as Counter);
  }

  /** One answered request; `seconds` < 0 counts it without a latency (event streams). */
  record(method: string, route: string, status: number, seconds: number): void {
    // Routes are patterns and statuses few, so the map stays small; an unknown method (any token
    // is valid HTTP) is folded so that clients cannot grow it without bound.
    const verb = KNOWN_METHODS.has(method) ? method : 'OTHER';
    // Two levels instead of a joined key: the route and method strings are the router's and
    // uWS's, whose hashes V8 caches, where a joined key would be a new string to hash each time.
    let byVerb = this.byRoute.get(route);
    if (!byVerb) {
      byVerb = new Map();
      this.byRoute.set(route, byVerb);
    }
    let s = byVerb.get(verb);
    if (!s) {
      s = {
        labels: { method: verb, route: route || UNMATCHED_ROUTE },
        byStatus: new Map(),
        buckets: new Float64Array(this.bounds.length + 1),
        sum: 0,
        count: 0,
      };
      byVerb.set(verb, s);
      this.series.push(s);
    }
    s.byStatus.set(status, (s.byStatus.get(status) ?? 0) + 1);
    if (seconds < 0) return;
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]!) i++;
    s.buckets[i]! += 1;
    s.sum += seconds;
    s.count += 1;
  }

  /**
   * `mailroom_http_request_duration_seconds` in the shape prom-client's registry prints (what its
   * own Histogram.get() returns), built from the plain counts above at scrape time.
   */
  private histogram() {
    const name = HISTOGRAM;
    const series = this.series;
    const bounds = this.bounds;
    return {
      name,
      help: HISTOGRAM_HELP,
      type: 'histogram',
      aggregator: 'sum',
      labelNames: ['method', 'route', 'le'],
      get: async () => {
        const values: Array<{ labels: Record<string, string | number>; value: number; metricName: string }> =
          [];
        for (const s of series) {
          if (s.count === 0) continue;
          let cumulative = 0;
          for (let i = 0; i < bounds.length; i++) {
            cumulative += s.buckets[i]!;
            values.push({
              labels: { ...s.labels, le: bounds[i]! },
              value: cumulative,
              metricName: `${name}_bucket`,
            });
          }
          values.push({ labels: { ...s.labels, le: '+Inf' }, value: s.count, metricName: `${name}_bucket` });
          values.push({ labels: s.labels, value: s.sum, metricName: `${name}_sum` });
          values.push({ labels: s.labels, value: s.count, metricName: `${name}_count` });
        }
        return { name, help: HISTOGRAM_HELP, type: 'histogram', values, aggregator: 'sum' };
      },
      reset: () => {
        this.byRoute.clear();
        series.length = 0;
      },
    };
  }
}
