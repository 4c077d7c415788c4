/**
 * The replaced service's workflow routes (SPEC §3 "Compatibility routes"): steps addressed by
 * index, each step one job with id `<workflow id>-<index>`.
 */
import type { Mailroom } from '../../../app/mailroom.js';
import { parse } from '../../../app/validation.js';
import { MailroomError } from '../../../errors.js';
import { CompatWorkflowSubmit, RESOURCE_ID } from '../../../schemas/http.js';
import type { WorkflowView } from '../../../schemas/workflow.js';
import type { HttpContext } from '../exchange.js';
import type { Router } from '../router.js';
import {
  asCompatValidation,
  compatStatus,
  errorText,
  isNotFound,
  statusCounts,
  timeframeOf,
} from './compat.js';

const WORKFLOW_PREFIX = 'Workflow validation failed';
const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

export function addCompatWorkflowRoutes(router: Router, app: Mailroom): void {
  router.add('POST', '/api/workflows', async (ctx) => {
    let body: CompatWorkflowSubmit;
    try {
      body = parse(CompatWorkflowSubmit, ctx.body);
    } catch (error) {
      throw asCompatValidation(error, 'WORKFLOW_CREATION_FAILED', WORKFLOW_PREFIX);
    }
    const spec = {
      name: body.name,
      steps: body.steps.map((step) => ({
        type: step.type,
        input: {
          ...(step.prompt === undefined ? {} : { prompt: step.prompt }),
          parameters: step.parameters ?? {},
        },
        ...(step.depends_on && step.depends_on.length > 0 ? { depends_on: step.depends_on } : {}),
      })),
      ...(body.webhook_url === undefined ? {} : { webhook_url: body.webhook_url }),
      ...(body.description === undefined ? {} : { metadata: { description: body.description } }),
    };
    let workflow: WorkflowView;
    try {
      ({ workflow } = await app.submitWorkflow(spec, { traceId: ctx.trace.traceId }));
    } catch (error) {
      throw asCompatValidation(error, 'WORKFLOW_CREATION_FAILED', WORKFLOW_PREFIX);
    }
    return {
      status: 200,
      body: {
        success: true,
        workflow_id: workflow.id,
        job_ids: workflow.step_details.map((step) => step.job_id),
      },
    };
  });

  router.add('GET', '/api/workflows/stats', async (ctx) => {
    const { timeframe, since } = timeframeOf(ctx);
    const { workflows } = await app.stats({ since });
    const { total, n } = statusCounts(workflows.by_status);
    return {
      status: 200,
      body: {
        success: true,
        stats: {
          total,
          pending: n('pending'),
          running: n('running'),
          completed: n('completed'),
          failed: n('failed'),
          cancelled: n('cancelled'),
        },
        timeframe,
      },
    };
  });

  router.add('GET', '/api/workflows/:id/status', async (ctx) => {
    const workflow = await findWorkflow(app, ctx);
    // Step details carry no progress; only a running step has any between 0 and 100.
    const progress = await Promise.all(
      workflow.step_details.map(async (step) => {
        if (step.status === 'completed') return 100;
        if (step.status !== 'running') return 0;
        return app.getJob(step.job_id).then(
          (job) => job.progress,
          () => 0,
        );
      }),
    );
    return {
      status: 200,
      body: {
        success: true,
        workflow: {
          id: workflow.id,
          name: workflow.name,
          description: description(workflow),
          status: workflow.status,
          total_steps: workflow.total_steps,
          completed_steps: workflow.completed_steps,
          progress_percentage: workflow.progress_percentage,
          created_at: workflow.created_at,
          completed_at: workflow.completed_at,
        },
        steps: workflow.step_details.map((step, index) => ({
          step_index: step.step_index,
          job_id: step.job_id,
          status: compatStatus(step.status),
          progress: progress[index],
          result: step.output,
          error: errorText(step.error),
          started_at: step.started_at,
          completed_at: step.completed_at,
        })),
      },
    };
  });

  router.add('POST', '/api/workflows/:id/cancel', async (ctx) => {
    const before = await findWorkflow(app, ctx);
    if (TERMINAL.has(before.status)) {
      return {
        status: 400,
        body: { success: false, message: `Cannot cancel workflow in status: ${before.status}` },
      };
    }
    let after: WorkflowView;
    try {
      after = await app.cancelWorkflow(before.id);
    } catch (error) {
      if (error instanceof MailroomError && error.code === 'INVALID_STATE') {
        const now = await app.getWorkflow(before.id);
        return {
          status: 400,
          body: { success: false, message: `Cannot cancel workflow in status: ${now.status}` },
        };
      }
      throw error;
    }
    const cancelled = (wf: WorkflowView) =>
      wf.step_details.filter((step) => step.status === 'cancelled').length;
    const n = cancelled(after) - cancelled(before);
    return {
      status: 200,
      body: { success: true, message: `Workflow cancelled (${n}/${after.total_steps} jobs cancelled)` },
    };
  });
}

async function findWorkflow(app: Mailroom, ctx: HttpContext): Promise<WorkflowView> {
  const id = ctx.params.id ?? '';
  try {
    if (RESOURCE_ID.test(id)) return await app.getWorkflow(id);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  throw new MailroomError('WORKFLOW_NOT_FOUND', `Workflow with ID ${id.slice(0, 200)} not found`);
}

function description(workflow: WorkflowView): string | null {
  const value = workflow.metadata?.description;
  return typeof value === 'string' ? value : null;
}
