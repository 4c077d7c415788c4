/**
 * `GET /metrics`: the Prometheus exposition of this server's registry (transport/metrics.ts).
 * Behind the API key like every route but /health*.
 */
import type { ServerMetrics } from '../../metrics.js';
import type { Router } from '../router.js';

export function addMetricsRoute(router: Router, metrics: ServerMetrics): void {
  router.add('GET', '/metrics', async () => ({ status: 200, raw: await metrics.scrape() }));
}
