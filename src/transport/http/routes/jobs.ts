/**
 * `/api/v1/jobs`: submit (one or a batch), fetch, list, cancel and retry (SPEC §3).
 */
import type { Mailroom } from '../../../app/mailroom.js';
import { parse } from '../../../app/validation.js';
import type { PreparedJob } from '../../../runtime/pool/prepare.js';
import { CancelBody, ListJobsQuery } from '../../../schemas/http.js';
import { pathId, queryFields } from '../params.js';
import type { Router } from '../router.js';

export function addJobRoutes(router: Router, app: Mailroom): void {
  router.add('POST', '/api/v1/jobs', async (ctx) => {
    const { job, created } = await app.submitJob(ctx.body, {
      traceId: ctx.trace.traceId,
      prepared: (ctx.prepared as PreparedJob | null | undefined) ?? null,
    });
    // 200 instead of 202 tells the client its idempotency key matched a job that already existed.
    return { status: created ? 202 : 200, body: job, headers: { location: `/api/v1/jobs/${job.id}` } };
  });

  router.add('POST', '/api/v1/jobs/batch', async (ctx) => {
    const { items } = await app.submitBatch(ctx.body, { traceId: ctx.trace.traceId });
    return { status: 202, body: { items } };
  });

  router.add('GET', '/api/v1/jobs', async (ctx) => {
    const query = parse(ListJobsQuery, queryFields(ctx));
    return { status: 200, body: await app.listJobs(query) };
  });

  router.add('GET', '/api/v1/jobs/:id', (ctx) => {
    const id = pathId(ctx, 'job');
    // Answered in the request's own callback when the job is at rest in memory.
    const job = app.peekJob(id);
    if (job) return { status: 200, body: job };
    return app.getJob(id).then((body) => ({ status: 200, body }));
  });

  router.add('POST', '/api/v1/jobs/:id/cancel', async (ctx) => {
    const id = pathId(ctx, 'job');
    const { reason } = parse(CancelBody, ctx.body);
    return { status: 200, body: await app.cancelJob(id, reason) };
  });

  router.add('POST', '/api/v1/jobs/:id/retry', async (ctx) => ({
    status: 200,
    body: await app.retryJob(pathId(ctx, 'job')),
  }));
}
