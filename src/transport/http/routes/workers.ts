/**
 * `GET /api/v1/workers`: the connected remote workers.
 */
import type { Mailroom } from '../../../app/mailroom.js';
import type { Router } from '../router.js';

export function addWorkerRoutes(router: Router, app: Mailroom): void {
  router.add('GET', '/api/v1/workers', async () => ({
    status: 200,
    body: { items: await app.listWorkers() },
  }));
}
