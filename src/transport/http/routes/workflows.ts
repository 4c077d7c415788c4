/**
 * `/api/v1/workflows`: submit, fetch, list, cancel and retry workflow runs (SPEC §3).
 */
import type { Mailroom } from '../../../app/mailroom.js';
import { parse } from '../../../app/validation.js';
import { CancelBody, ListWorkflowsQuery } from '../../../schemas/http.js';
import { pathId, queryFields } from '../params.js';
import type { Router } from '../router.js';

export function addWorkflowRoutes(router: Router, app: Mailroom): void {
  router.add('POST', '/api/v1/workflows', async (ctx) => {
    const { workflow, created } = await app.submitWorkflow(ctx.body, { traceId: ctx.trace.traceId });
    return {
      status: created ? 202 : 200,
      body: workflow,
      headers: { location: `/api/v1/workflows/${workflow.id}` },
    };
  });

  router.add('GET', '/api/v1/workflows', async (ctx) => {
    const query = parse(ListWorkflowsQuery, queryFields(ctx));
    return { status: 200, body: await app.listWorkflows(query) };
  });

  router.add('GET', '/api/v1/workflows/:id', (ctx) => {
    const id = pathId(ctx, 'workflow');
    const workflow = app.peekWorkflow(id);
    if (workflow) return { status: 200, body: workflow };
    return app.getWorkflow(id).then((body) => ({ status: 200, body }));
  });

  router.add('POST', '/api/v1/workflows/:id/cancel', async (ctx) => {
    const id = pathId(ctx, 'workflow');
    const { reason } = parse(CancelBody, ctx.body);
    return { status: 200, body: await app.cancelWorkflow(id, reason) };
  });

  router.add('POST', '/api/v1/workflows/:id/retry', async (ctx) => ({
    status: 200,
    body: await app.retryWorkflow(pathId(ctx, 'workflow')),
  }));
}
