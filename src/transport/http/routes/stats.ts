/**
 * `GET /api/v1/stats`: counts by status and type, queue depth, and the last minute's throughput
 * and latency percentiles.
 */
import type { Mailroom } from '../../../app/mailroom.js';
import type { Router } from '../router.js';

export function addStatsRoutes(router: Router, app: Mailroom): void {
  router.add('GET', '/api/v1/stats', async () => ({ status: 200, body: await app.stats() }));
}
