/**
 * The replaced service's job routes (SPEC §3 "Compatibility routes"), mapped onto the domain:
 * same paths, shapes, status codes and messages, so its clients keep working unchanged.
 * Choices where that contract is silent are in docs/design-notes.md ("HTTP").
 */
import type { Mailroom } from '../../../app/mailroom.js';
import { parse } from '../../../app/validation.js';
import { type ErrorDetail, MailroomError } from '../../../errors.js';
import { CompatCancelBody, CompatJobSubmit, RESOURCE_ID } from '../../../schemas/http.js';
import type { JobView } from '../../../schemas/job.js';
import { isTerminalJobStatus } from '../../../schemas/job.js';
import type { HttpContext, HttpReply } from '../exchange.js';
import type { Router } from '../router.js';
import {
  asCompatValidation,
  compatStatus,
  errorText,
  isNotFound,
  statusCounts,
  timeframeOf,
} from './compat.js';

const JOB_PREFIX = 'Job validation failed';

export function addCompatJobRoutes(router: Router, app: Mailroom): void {
  router.add('POST', '/api/jobs/submit', async (ctx) => {
    let body: CompatJobSubmit;
    try {
      body = parse(CompatJobSubmit, ctx.body);
    } catch (error) {
      throw asCompatValidation(error, 'JOB_SUBMISSION_FAILED', JOB_PREFIX);
    }
    if (body.depends_on && body.depends_on.length > 0) await checkDependencies(app, body.depends_on);
    const spec = {
      type: body.type,
      // The replaced service's jobs carried `prompt` and `parameters`; they become the input.
      input: {
        ...(body.prompt === undefined ? {} : { prompt: body.prompt }),
        parameters: body.parameters ?? {},
      },
      ...(body.priority === undefined ? {} : { priority: body.priority }),
      ...(body.webhook_url === undefined ? {} : { webhook_url: body.webhook_url }),
      ...(body.workflow_id === undefined ? {} : { metadata: { workflow_id: body.workflow_id } }),
    };
    let job: JobView;
    try {
      ({ job } = await app.submitJob(spec, { traceId: ctx.trace.traceId }));
    } catch (error) {
      throw asCompatValidation(error, 'JOB_SUBMISSION_FAILED', JOB_PREFIX);
    }
    return {
      status: 200,
      body: { success: true, job_id: job.id, status: job.status === 'waiting' ? 'waiting' : 'submitted' },
    };
  });

  router.add('GET', '/api/jobs/stats', async (ctx) => {
    const { timeframe, since } = timeframeOf(ctx);
    const { jobs } = await app.stats({ since });
    const { total, n } = statusCounts(jobs.by_status);
    return {
      status: 200,
      body: {
        success: true,
        stats: {
          total,
          // Everything not yet started counts as pending for the replaced service's clients.
          pending: n('waiting') + n('delayed') + n('pending'),
          running: n('running'),
          completed: n('completed'),
          failed: n('failed'),
          cancelled: n('cancelled'),
          by_type: jobs.by_type,
        },
        timeframe,
      },
    };
  });

  router.add('GET', '/api/jobs/:id/status', async (ctx) => {
    const job = await findJob(app, ctx);
    return {
      status: 200,
      body: {
        success: true,
        job: {
          id: job.id,
          type: job.type,
          status: compatStatus(job.status),
          progress: job.progress,
          created_at: job.created_at,
          started_at: job.started_at,
          completed_at: job.completed_at,
          result: job.output,
          error: errorText(job.error),
          worker_id: job.worker_id,
          // Mailroom has no separate machine identity; workers are the unit it knows.
          machine_id: null,
          workflow_id: job.workflow_id ?? stringOrNull(job.metadata?.workflow_id),
        },
      },
    };
  });

  router.add('POST', '/api/jobs/:id/cancel', async (ctx) => {
    const job = await findJob(app, ctx);
    const { reason } = parse(CompatCancelBody, ctx.body);
    // The replaced service cancelled only jobs that had not started.
    if (job.status === 'running' || isTerminalJobStatus(job.status)) return cannotCancel(job);
    try {
      await app.cancelJob(job.id, reason);
    } catch (error) {
      // It finished (or was cancelled) between the look and the cancel: report its status now.
      if (error instanceof MailroomError && error.code === 'INVALID_STATE') {
        return cannotCancel(await app.getJob(job.id));
      }
      throw error;
    }
    return { status: 200, body: { success: true, message: 'Job cancelled successfully' } };
  });
}

function cannotCancel(job: JobView): HttpReply {
  return {
    status: 400,
    body: { success: false, message: `Cannot cancel job in status: ${compatStatus(job.status)}` },
  };
}

async function findJob(app: Mailroom, ctx: HttpContext): Promise<JobView> {
  const id = ctx.params.id ?? '';
  try {
    if (RESOURCE_ID.test(id)) return await app.getJob(id);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  throw new MailroomError('JOB_NOT_FOUND', `Job with ID ${id.slice(0, 200)} not found`);
}

/**
 * A job submitted with `depends_on` is accepted once every dependency completed. Waiting for
 * unfinished ones needs the dependency inside the domain (a workflow), so those are refused
 * with a pointer to POST /api/workflows rather than run too early.
 */
async function checkDependencies(app: Mailroom, ids: readonly string[]): Promise<void> {
  const jobs = await Promise.all(
    ids.map(async (id) => {
      if (!RESOURCE_ID.test(id)) return null;
      try {
        return await app.getJob(id);
      } catch (error) {
        if (isNotFound(error)) return null;
        throw error;
      }
    }),
  );
  const problems: ErrorDetail[] = [];
  jobs.forEach((job, index) => {
    const path = `depends_on.${index}`;
    const id = ids[index]!.slice(0, 200);
    if (!job) problems.push({ path, message: `job ${id} not found` });
    else if (job.status === 'failed' || job.status === 'cancelled') {
      problems.push({ path, message: `job ${id} ${job.status}` });
    } else if (job.status !== 'completed') {
      problems.push({
        path,
        message: `job ${id} has not completed (status: ${compatStatus(job.status)}); submit dependent jobs together with POST /api/workflows`,
      });
    }
  });
  if (problems.length === 0) return;
  const summary = problems.map((p) => `${p.path}: ${p.message}`).join('; ');
  throw new MailroomError('JOB_SUBMISSION_FAILED', `${JOB_PREFIX}: ${summary}`, { details: problems });
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}
