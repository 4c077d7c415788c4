/**
 * /api/v1/jobs over real sockets: every route's success and error codes.
 */
import { unpack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestServer, type TestServer, terminal, waitForJob } from './support.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.stop();
});

describe('POST /api/v1/jobs', () => {
  it('answers 202 with the job, its Location, and runs it', async () => {
    const res = await call(t.base, 'POST', '/api/v1/jobs', { type: 'echo', input: { hello: 'world' } });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ type: 'echo', input: { hello: 'world' }, priority: 50 });
    expect(['pending', 'running', 'completed']).toContain(res.body.status);
    expect(res.headers.get('location')).toBe(`/api/v1/jobs/${res.body.id}`);
    const done = await waitForJob(t.base, res.body.id, terminal);
    expect(done).toMatchObject({ status: 'completed', output: { hello: 'world' }, attempts: 1 });
  });

  it('answers 200 with the first job when the idempotency key matches', async () => {
    const spec = { type: 'echo', input: { n: 1 }, idempotency_key: `key-${Date.now()}` };
    const first = await call(t.base, 'POST', '/api/v1/jobs', spec);
    const second = await call(t.base, 'POST', '/api/v1/jobs', { ...spec, input: { n: 2 } });
    expect(first.status).toBe(202);
    expect(second.status).toBe(200);
    expect(second.body.id).toBe(first.body.id);
    expect(second.body.input).toEqual({ n: 1 });
  });

  it('rejects wrong types with VALIDATION_FAILED naming every path', async () => {
    const res = await call(t.base, 'POST', '/api/v1/jobs', {
      type: 'echo',
      priority: 'high',
      max_attempts: 0,
      backoff: { type: 'linear' },
      colour: 'red',
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    const paths = res.body.error.details.map((d: { path: string }) => d.path).sort();
    expect(paths).toEqual(['backoff.type', 'colour', 'max_attempts', 'priority']);
  });

  it('rejects an unknown type and input that breaks the type schema', async () => {
    const unknown = await call(t.base, 'POST', '/api/v1/jobs', { type: 'nope' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details).toEqual([{ path: 'type', message: 'unknown job type "nope"' }]);
    const bad = await call(t.base, 'POST', '/api/v1/jobs', { type: 'sleep', input: { ms: 'soon' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].path).toBe('input.ms');
  });

  it('rejects a missing or non-object body', async () => {
    for (const body of [undefined, '[]', '"echo"', 'null']) {
      const res = await call(t.base, 'POST', '/api/v1/jobs', body);
      expect(res.status, String(body)).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
    }
  });
});

describe('GET /api/v1/jobs/:id', () => {
  it('answers 404 NOT_FOUND for an unknown id and for ids that cannot exist', async () => {
    for (const id of [
      '00000000-0000-0000-0000-000000000000',
      '%7Bweird%7D',
      'a%20b',
      '..',
      'x'.repeat(300),
    ]) {
      const res = await call(t.base, 'GET', `/api/v1/jobs/${id}`);
      expect(res.status, id).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
  });

  it('returns the SPEC fields', async () => {
    const { body } = await call(t.base, 'POST', '/api/v1/jobs', { type: 'echo' });
    const res = await call(t.base, 'GET', `/api/v1/jobs/${body.id}`);
    expect(res.status).toBe(200);
    for (const field of [
      'id',
      'type',
      'status',
      'priority',
      'progress',
      'attempts',
      'input',
      'output',
      'error',
      'cost',
      'worker_id',
      'workflow_id',
      'step',
      'created_at',
      'started_at',
      'completed_at',
    ]) {
      expect(res.body, field).toHaveProperty(field);
    }
  });

  it('answers a job polled again and again from its latest state', async () => {
    const { body } = await call(t.base, 'POST', '/api/v1/jobs', { type: 'echo', delay_ms: 60_000 });
    const first = await call(t.base, 'GET', `/api/v1/jobs/${body.id}`);
    const second = await call(t.base, 'GET', `/api/v1/jobs/${body.id}`);
    expect(first.body.status).toBe('delayed');
    expect(second.body).toEqual(first.body);
    await call(t.base, 'POST', `/api/v1/jobs/${body.id}/cancel`, { reason: 'polled' });
    const after = await call(t.base, 'GET', `/api/v1/jobs/${body.id}`);
    expect(after.body.status).toBe('cancelled');
    const packed = await fetch(`${t.base}/api/v1/jobs/${body.id}`, {
      headers: { accept: 'application/msgpack' },
    });
    expect(unpack(Buffer.from(await packed.arrayBuffer()))).toEqual(after.body);
  });
});

describe('GET /api/v1/jobs', () => {
  it('lists newest first with filters and a cursor that neither skips nor repeats', async () => {
    const type = 'checksum';
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await call(t.base, 'POST', '/api/v1/jobs', { type, input: { data: `d${i}` } });
      ids.push(res.body.id);
      await new Promise((r) => setTimeout(r, 2));
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?type=${type}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await call(t.base, 'GET', `/api/v1/jobs${query}`);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((job: { id: string }) => job.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
  });

  it('filters by status and treats empty parameters as absent', async () => {
    const res = await call(t.base, 'GET', '/api/v1/jobs?status=completed&type=&limit=500');
    expect(res.status).toBe(200);
    expect(res.body.items.length).toBeGreaterThan(0);
    expect(res.body.items.every((job: { status: string }) => job.status === 'completed')).toBe(true);
  });

  it('refuses a cursor that no page handed out instead of starting over', async () => {
    for (const path of ['/api/v1/jobs?cursor=garbage', '/api/v1/workflows?cursor=garbage']) {
      const res = await call(t.base, 'GET', path);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual(['cursor']);
    }
  });

  it('rejects bad query values with their names as paths', async () => {
    const res = await call(t.base, 'GET', '/api/v1/jobs?status=nope&limit=0');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['limit', 'status']);
  });

  it('filters by workflow_id', async () => {
    const wf = await call(t.base, 'POST', '/api/v1/workflows', {
      name: 'list-by-workflow',
      steps: [{ type: 'echo' }, { type: 'echo', depends_on: [0] }],
    });
    // The step jobs are created by the workflow once its own write is durable (the 202), and are
    // listed once theirs are: moments later, so the listing is polled.
    const listed = async () => {
      const res = await call(t.base, 'GET', `/api/v1/jobs?workflow_id=${wf.body.id}`);
      return res.body.items.map((job: { id: string }) => job.id).sort();
    };
    await expect.poll(listed).toEqual([`${wf.body.id}-0`, `${wf.body.id}-1`]);
  });
});

describe('POST /api/v1/jobs/:id/cancel and /retry', () => {
  it('cancels a delayed job with a reason, then refuses a second cancel with 409', async () => {
    const { body } = await call(t.base, 'POST', '/api/v1/jobs', { type: 'echo', delay_ms: 60_000 });
    expect(body.status).toBe('delayed');
    const cancelled = await call(t.base, 'POST', `/api/v1/jobs/${body.id}/cancel`, {
      reason: 'changed my mind',
    });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    const again = await call(t.base, 'POST', `/api/v1/jobs/${body.id}/cancel`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('INVALID_STATE');
  });

  it('cancels without a body, and rejects a malformed one', async () => {
    const { body } = await call(t.base, 'POST', '/api/v1/jobs', { type: 'echo', delay_ms: 60_000 });
    const bad = await call(t.base, 'POST', `/api/v1/jobs/${body.id}/cancel`, { reason: 42 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].path).toBe('reason');
    const ok = await call(t.base, 'POST', `/api/v1/jobs/${body.id}/cancel`);
    expect(ok.status).toBe(200);
  });

  it('retries a failed job (200) but not a completed one (409)', async () => {
    const failed = await call(t.base, 'POST', '/api/v1/jobs', { type: 'fail', input: { retryable: false } });
    await waitForJob(t.base, failed.body.id, (job: { status: string }) => job.status === 'failed');
    const retried = await call(t.base, 'POST', `/api/v1/jobs/${failed.body.id}/retry`);
    expect(retried.status).toBe(200);
    expect(retried.body.attempts).toBe(0);
    const ok = await call(t.base, 'POST', '/api/v1/jobs', { type: 'echo' });
    await waitForJob(t.base, ok.body.id, terminal);
    const refused = await call(t.base, 'POST', `/api/v1/jobs/${ok.body.id}/retry`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('INVALID_STATE');
  });

  it('answers 404 for cancel and retry of unknown jobs', async () => {
    for (const action of ['cancel', 'retry']) {
      const res = await call(t.base, 'POST', `/api/v1/jobs/nope/${action}`);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
  });
});

describe('POST /api/v1/jobs/batch', () => {
  it('creates every job and answers 202 with them in order', async () => {
    const jobs = Array.from({ length: 20 }, (_, i) => ({ type: 'echo', input: { i } }));
    const res = await call(t.base, 'POST', '/api/v1/jobs/batch', { jobs });
    expect(res.status).toBe(202);
    expect(res.body.items.map((job: { input: { i: number } }) => job.input.i)).toEqual(jobs.map((_, i) => i));
  });

  it('creates nothing when one job is invalid, naming it by index', async () => {
    const before = (await call(t.base, 'GET', '/api/v1/stats')).body.jobs.by_type.echo;
    const res = await call(t.base, 'POST', '/api/v1/jobs/batch', {
      jobs: [{ type: 'echo' }, { type: 'nope' }, { type: 'echo', priority: 101 }],
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual(['jobs.2.priority']);
    const unknown = await call(t.base, 'POST', '/api/v1/jobs/batch', {
      jobs: [{ type: 'echo' }, { type: 'nope' }],
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details).toEqual([{ path: 'jobs.1.type', message: 'unknown job type "nope"' }]);
    expect((await call(t.base, 'GET', '/api/v1/stats')).body.jobs.by_type.echo).toBe(before);
  });

  it('refuses an empty batch and more than 1,000 jobs', async () => {
    expect((await call(t.base, 'POST', '/api/v1/jobs/batch', { jobs: [] })).status).toBe(400);
    const many = Array.from({ length: 1_001 }, () => ({ type: 'echo' }));
    expect((await call(t.base, 'POST', '/api/v1/jobs/batch', { jobs: many })).status).toBe(400);
  });

  it('GET on the batch path is 405, not a job called "batch"', async () => {
    const res = await call(t.base, 'GET', '/api/v1/jobs/batch');
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
  });
});
