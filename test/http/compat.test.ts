/**
 * The compatibility routes (SPEC §3): the replaced service's paths, shapes, status codes and
 * messages, exactly, so its clients keep working unchanged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeWorker } from '../app/support/fake-worker.js';
import { call, startTestServer, type TestServer, terminal, waitForJob, waitForWorkflow } from './support.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.stop();
});

describe('POST /api/jobs/submit', () => {
  it('maps prompt and parameters onto the input and answers {success, job_id, status: "submitted"}', async () => {
    const res = await call(t.base, 'POST', '/api/jobs/submit', {
      type: 'echo',
      prompt: 'a cat',
      parameters: { steps: 20 },
      priority: 80,
      webhook_url: null,
      some_old_field: 'ignored',
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: true, job_id: expect.any(String), status: 'submitted' });
    const job = await waitForJob(t.base, res.body.job_id, terminal);
    expect(job).toMatchObject({ priority: 80, input: { prompt: 'a cat', parameters: { steps: 20 } } });
    expect(job.output).toEqual({ prompt: 'a cat', parameters: { steps: 20 } });
  });

  it('answers 400 JOB_SUBMISSION_FAILED "Job validation failed: …" for invalid jobs', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{}, /^Job validation failed: type: is required$/],
      [{ type: 'nope' }, /^Job validation failed: type: unknown job type "nope"$/],
      [{ type: 'text-to-image' }, /^Job validation failed: input\.prompt: /],
      [{ type: 'echo', priority: 'high' }, /^Job validation failed: priority: /],
      [{ type: 'echo', parameters: [1] }, /^Job validation failed: parameters: /],
    ];
    for (const [body, message] of cases) {
      const res = await call(t.base, 'POST', '/api/jobs/submit', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.success).toBe(false);
      expect(res.body.error.code).toBe('JOB_SUBMISSION_FAILED');
      expect(res.body.error.message).toMatch(message);
    }
  });

  it('keeps workflow_id and accepts depends_on once every dependency completed', async () => {
    const dep = await call(t.base, 'POST', '/api/jobs/submit', { type: 'echo' });
    await waitForJob(t.base, dep.body.job_id, terminal);
    const res = await call(t.base, 'POST', '/api/jobs/submit', {
      type: 'echo',
      workflow_id: 'legacy-wf-1',
      depends_on: [dep.body.job_id],
    });
    expect(res.body).toMatchObject({ success: true, status: 'submitted' });
    const status = await call(t.base, 'GET', `/api/jobs/${res.body.job_id}/status`);
    expect(status.body.job.workflow_id).toBe('legacy-wf-1');
  });

  it('refuses depends_on naming unknown, failed or unfinished jobs', async () => {
    const pending = await call(t.base, 'POST', '/api/jobs/submit', { type: 'text-to-image', prompt: 'p' });
    const res = await call(t.base, 'POST', '/api/jobs/submit', {
      type: 'echo',
      depends_on: ['00000000-0000-0000-0000-000000000000', pending.body.job_id],
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('JOB_SUBMISSION_FAILED');
    expect(res.body.error.message).toMatch(
      /^Job validation failed: depends_on\.0: job 0{8}-.* not found; depends_on\.1: job .* has not completed/,
    );
  });
});

describe('GET /api/jobs/:id/status', () => {
  it('answers the replaced service shape', async () => {
    const { body } = await call(t.base, 'POST', '/api/jobs/submit', { type: 'echo', prompt: 'x' });
    await waitForJob(t.base, body.job_id, terminal);
    const res = await call(t.base, 'GET', `/api/jobs/${body.job_id}/status`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      success: true,
      job: {
        id: body.job_id,
        type: 'echo',
        status: 'completed',
        progress: 100,
        created_at: expect.any(String),
        started_at: expect.any(String),
        completed_at: expect.any(String),
        result: { prompt: 'x', parameters: {} },
        error: null,
        worker_id: 'builtin',
        machine_id: null,
        workflow_id: null,
      },
    });
  });

  it('shows a failure as its message', async () => {
    const { body } = await call(t.base, 'POST', '/api/jobs/submit', { type: 'fail' });
    await waitForJob(t.base, body.job_id, (job: { status: string }) => job.status === 'failed');
    const res = await call(t.base, 'GET', `/api/jobs/${body.job_id}/status`);
    expect(res.body.job).toMatchObject({
      status: 'failed',
      error: 'the fail job always fails',
      result: null,
    });
  });

  it('answers 404 JOB_NOT_FOUND "Job with ID <id> not found"', async () => {
    for (const id of ['missing-id', '%7B%7D']) {
      const res = await call(t.base, 'GET', `/api/jobs/${id}/status`);
      expect(res.status).toBe(404);
      expect(res.body).toEqual({
        success: false,
        error: { code: 'JOB_NOT_FOUND', message: `Job with ID ${decodeURIComponent(id)} not found` },
      });
    }
  });
});

describe('POST /api/jobs/:id/cancel', () => {
  it('cancels a queued job: {success: true, message: "Job cancelled successfully"}', async () => {
    const { body } = await call(t.base, 'POST', '/api/jobs/submit', { type: 'text-to-image', prompt: 'p' });
    const res = await call(t.base, 'POST', `/api/jobs/${body.job_id}/cancel`, { reason: 'no longer needed' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: true, message: 'Job cancelled successfully' });
    expect((await call(t.base, 'GET', `/api/jobs/${body.job_id}/status`)).body.job.status).toBe('cancelled');
  });

  it('refuses running and terminal jobs with 400 {success: false, message: "Cannot cancel job in status: <s>"}', async () => {
    const worker = FakeWorker.connect(t.server.app, { types: ['upscale'], gpuMemoryGb: 48, slots: 1 });
    const running = await call(t.base, 'POST', '/api/jobs/submit', { type: 'upscale' });
    await waitForJob(t.base, running.body.job_id, (job: { status: string }) => job.status === 'running');
    const refused = await call(t.base, 'POST', `/api/jobs/${running.body.job_id}/cancel`);
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({ success: false, message: 'Cannot cancel job in status: running' });
    t.server.app.disconnectWorker(worker.id);

    const done = await call(t.base, 'POST', '/api/jobs/submit', { type: 'echo' });
    await waitForJob(t.base, done.body.job_id, terminal);
    const again = await call(t.base, 'POST', `/api/jobs/${done.body.job_id}/cancel`);
    expect(again.status).toBe(400);
    expect(again.body).toEqual({ success: false, message: 'Cannot cancel job in status: completed' });
  });

  it('answers 404 JOB_NOT_FOUND for an unknown job', async () => {
    const res = await call(t.base, 'POST', '/api/jobs/nope/cancel');
    expect(res.status).toBe(404);
    expect(res.body.error).toEqual({ code: 'JOB_NOT_FOUND', message: 'Job with ID nope not found' });
  });
});

describe('GET /api/jobs/stats', () => {
  it('answers {success, stats: {total, pending, running, completed, failed, by_type}, timeframe}', async () => {
    for (const timeframe of ['hour', 'day', 'week']) {
      const res = await call(t.base, 'GET', `/api/jobs/stats?timeframe=${timeframe}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ success: true, timeframe });
      const { stats } = res.body;
      for (const field of ['total', 'pending', 'running', 'completed', 'failed']) {
        expect(typeof stats[field], field).toBe('number');
      }
      expect(stats.total).toBeGreaterThan(0);
      expect(stats.by_type.echo).toBeGreaterThan(0);
    }
    expect((await call(t.base, 'GET', '/api/jobs/stats')).body.timeframe).toBe('day');
  });

  it('answers 400 INVALID_TIMEFRAME for any other timeframe', async () => {
    const res = await call(t.base, 'GET', '/api/jobs/stats?timeframe=month');
    expect(res.status).toBe(400);
    expect(res.body.success).toBe(false);
    expect(res.body.error.code).toBe('INVALID_TIMEFRAME');
  });
});

describe('POST /api/workflows', () => {
  it('creates the run and answers {success, workflow_id, job_ids} with <workflow id>-<index> ids', async () => {
    const res = await call(t.base, 'POST', '/api/workflows', {
      name: 'legacy',
      description: 'three steps',
      steps: [
        { type: 'echo', prompt: 'first' },
        { type: 'echo', prompt: 'second', depends_on: [0] },
        { type: 'echo', parameters: { k: 1 }, depends_on: [0, 1] },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      success: true,
      workflow_id: expect.any(String),
      job_ids: [0, 1, 2].map((i) => `${res.body.workflow_id}-${i}`),
    });
    await waitForWorkflow(t.base, res.body.workflow_id, terminal);
    const status = await call(t.base, 'GET', `/api/workflows/${res.body.workflow_id}/status`);
    expect(status.body).toEqual({
      success: true,
      workflow: {
        id: res.body.workflow_id,
        name: 'legacy',
        description: 'three steps',
        status: 'completed',
        total_steps: 3,
        completed_steps: 3,
        progress_percentage: 100,
        created_at: expect.any(String),
        completed_at: expect.any(String),
      },
      steps: [0, 1, 2].map((i) => ({
        step_index: i,
        job_id: `${res.body.workflow_id}-${i}`,
        status: 'completed',
        progress: 100,
        result: i === 2 ? { parameters: { k: 1 } } : { prompt: i === 0 ? 'first' : 'second', parameters: {} },
        error: null,
        started_at: expect.any(String),
        completed_at: expect.any(String),
      })),
    });
  });

  it('answers 400 WORKFLOW_CREATION_FAILED "Workflow validation failed: …"', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ steps: [{ type: 'echo' }] }, /^Workflow validation failed: name: is required$/],
      [{ name: 'x', steps: [] }, /^Workflow validation failed: steps: must have at least 1 step$/],
      [
        { name: 'x', steps: Array.from({ length: 51 }, () => ({ type: 'echo' })) },
        /^Workflow validation failed: steps: must have at most 50 steps$/,
      ],
      [
        { name: 'x', steps: [{ type: 'echo' }, { type: 'echo', depends_on: [1] }] },
        /^Workflow validation failed: steps\.1\.depends_on\.0: must reference an earlier step/,
      ],
      [
        { name: 'x', steps: [{ type: 'nope' }] },
        /^Workflow validation failed: steps\.0\.type: unknown job type "nope"$/,
      ],
    ];
    for (const [body, message] of cases) {
      const res = await call(t.base, 'POST', '/api/workflows', body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(res.body.success).toBe(false);
      expect(res.body.error.code).toBe('WORKFLOW_CREATION_FAILED');
      expect(res.body.error.message).toMatch(message);
    }
  });
});

describe('GET /api/workflows/:id/status and POST /api/workflows/:id/cancel', () => {
  it('answers 404 WORKFLOW_NOT_FOUND for unknown runs', async () => {
    for (const [method, path] of [
      ['GET', '/api/workflows/nope/status'],
      ['POST', '/api/workflows/nope/cancel'],
    ] as const) {
      const res = await call(t.base, method, path);
      expect(res.status).toBe(404);
      expect(res.body).toEqual({
        success: false,
        error: { code: 'WORKFLOW_NOT_FOUND', message: 'Workflow with ID nope not found' },
      });
    }
  });

  it('cancels: "Workflow cancelled (n/m jobs cancelled)", then refuses a finished run', async () => {
    const { body } = await call(t.base, 'POST', '/api/workflows', {
      name: 'to-cancel',
      steps: [{ type: 'text-to-image', prompt: 'p' }, { type: 'echo', depends_on: [0] }, { type: 'echo' }],
    });
    const third = `${body.workflow_id}-2`;
    await waitForJob(t.base, third, terminal);
    const res = await call(t.base, 'POST', `/api/workflows/${body.workflow_id}/cancel`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: true, message: 'Workflow cancelled (2/3 jobs cancelled)' });
    const status = await call(t.base, 'GET', `/api/workflows/${body.workflow_id}/status`);
    expect(status.body.workflow.status).toBe('cancelled');
    expect(status.body.steps.map((s: { status: string }) => s.status)).toEqual([
      'cancelled',
      'cancelled',
      'completed',
    ]);
    const again = await call(t.base, 'POST', `/api/workflows/${body.workflow_id}/cancel`);
    expect(again.status).toBe(400);
    expect(again.body).toEqual({ success: false, message: 'Cannot cancel workflow in status: cancelled' });
  });
});

describe('GET /api/workflows/stats', () => {
  it('answers counts for the timeframe, and INVALID_TIMEFRAME otherwise', async () => {
    const res = await call(t.base, 'GET', '/api/workflows/stats?timeframe=hour');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: true, timeframe: 'hour' });
    expect(res.body.stats.total).toBeGreaterThan(0);
    for (const field of ['pending', 'running', 'completed', 'failed', 'cancelled']) {
      expect(typeof res.body.stats[field], field).toBe('number');
    }
    const bad = await call(t.base, 'GET', '/api/workflows/stats?timeframe=');
    expect(bad.status).toBe(200);
    const worse = await call(t.base, 'GET', '/api/workflows/stats?timeframe=decade');
    expect(worse.status).toBe(400);
    expect(worse.body.error.code).toBe('INVALID_TIMEFRAME');
  });
});

describe('errors on compatibility paths', () => {
  it('carry success: false even when decided before any route runs', async () => {
    const unknown = await call(t.base, 'GET', '/api/nothing/here');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ success: false, error: { code: 'NOT_FOUND' } });
    const malformed = await call(t.base, 'POST', '/api/jobs/submit', '{"type":');
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({ success: false, error: { code: 'INVALID_JSON' } });
    const v1 = await call(t.base, 'GET', '/api/v1/nothing');
    expect(v1.body.success).toBeUndefined();
  });
});
