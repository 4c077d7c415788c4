/**
 * `GET /api/v1/workers`: the connected remote workers.
 */
import type { Mailroom } from '../../../app/mailroom.js';
import type { Router } from '../router.js';

export function addWorkerRoutes(router: Router, app: Mailroom): void {
  router.add('GET', '/api/v1/workers', async () => {
    const workers = await app.listWorkers();
    // SPEC names `last_seen`; until the worker protocol reports heartbeats here, the last time
    // this server heard from a worker is when it connected.
    return {
      status: 200,
      body: { items: workers.map((worker) => ({ ...worker, last_seen: worker.connected_at })) },
    };
  });
}
