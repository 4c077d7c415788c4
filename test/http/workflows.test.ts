/**
 * /api/v1/workflows over real sockets: submit, fetch, list, cancel, retry and validation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestServer, type TestServer, terminal, waitForWorkflow } from './support.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.stop();
});

const pipeline = (name: string) => ({
  name,
  input: { word: 'hi' },
  steps: [
    { name: 'a', type: 'echo', input: { x: '{{ input.word }}' } },
    { name: 'b', type: 'echo', depends_on: ['a'], input: { y: '{{ steps.a.output.x }}' } },
  ],
});

describe('POST /api/v1/workflows', () => {
  it('answers 202 with the run, which completes with step_details', async () => {
    const res = await call(t.base, 'POST', '/api/v1/workflows', pipeline('wf-ok'));
    expect(res.status).toBe(202);
    expect(res.headers.get('location')).toBe(`/api/v1/workflows/${res.body.id}`);
    expect(res.body).toMatchObject({ name: 'wf-ok', total_steps: 2, status: 'running' });
    const done = await waitForWorkflow(t.base, res.body.id, terminal);
    expect(done.status).toBe('completed');
    expect(done.progress_percentage).toBe(100);
    expect(done.step_details[1]).toMatchObject({
      name: 'b',
      job_id: `${res.body.id}-1`,
      output: { y: 'hi' },
    });
  });

  it('answers 200 with the first run for a repeated idempotency key', async () => {
    const spec = { ...pipeline('wf-idem'), idempotency_key: `wf-${Date.now()}` };
    const first = await call(t.base, 'POST', '/api/v1/workflows', spec);
    const second = await call(t.base, 'POST', '/api/v1/workflows', spec);
    expect([first.status, second.status]).toEqual([202, 200]);
    expect(second.body.id).toBe(first.body.id);
  });

  it('rejects invalid graphs with field paths', async () => {
    const res = await call(t.base, 'POST', '/api/v1/workflows', {
      name: 'bad',
      steps: [
        { name: 'a', type: 'echo', depends_on: ['b'] },
        { name: 'b', type: 'echo', depends_on: ['a'] },
        { name: 'c', type: 'nope', depends_on: ['zzz'] },
      ],
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    const paths = res.body.error.details.map((d: { path: string }) => d.path).sort();
    expect(paths).toEqual([
      'steps.0.depends_on',
      'steps.1.depends_on',
      'steps.2.depends_on.0',
      'steps.2.type',
    ]);
  });

  it('requires a name and 1–200 steps', async () => {
    const noName = await call(t.base, 'POST', '/api/v1/workflows', { steps: [{ type: 'echo' }] });
    expect(noName.body.error.details[0].path).toBe('name');
    const noSteps = await call(t.base, 'POST', '/api/v1/workflows', { name: 'x', steps: [] });
    expect(noSteps.body.error.details[0].path).toBe('steps');
    const tooMany = await call(t.base, 'POST', '/api/v1/workflows', {
      name: 'x',
      steps: Array.from({ length: 201 }, () => ({ type: 'echo' })),
    });
    expect(tooMany.status).toBe(400);
  });
});

describe('GET /api/v1/workflows[/:id]', () => {
  it('answers 404 for an unknown run', async () => {
    const res = await call(t.base, 'GET', '/api/v1/workflows/00000000-0000-0000-0000-000000000000');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
  });

  it('lists by name and status, newest first, with a cursor', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await call(t.base, 'POST', '/api/v1/workflows', pipeline('wf-listed'))).body.id);
      await new Promise((r) => setTimeout(r, 2));
    }
    for (const id of ids) await waitForWorkflow(t.base, id, terminal);
    const first = await call(t.base, 'GET', '/api/v1/workflows?name=wf-listed&status=completed&limit=2');
    expect(first.status).toBe(200);
    expect(first.body.items.map((wf: { id: string }) => wf.id)).toEqual([ids[2], ids[1]]);
    const second = await call(
      t.base,
      'GET',
      `/api/v1/workflows?name=wf-listed&status=completed&limit=2&cursor=${encodeURIComponent(first.body.next_cursor)}`,
    );
    expect(second.body.items.map((wf: { id: string }) => wf.id)).toEqual([ids[0]]);
    expect(second.body.next_cursor).toBeNull();
  });

  it('rejects a bad status filter', async () => {
    const res = await call(t.base, 'GET', '/api/v1/workflows?status=waiting');
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].path).toBe('status');
  });
});

describe('POST /api/v1/workflows/:id/cancel and /retry', () => {
  it('cancels a running run (200), refuses again (409), then retries it (200)', async () => {
    const res = await call(t.base, 'POST', '/api/v1/workflows', {
      name: 'wf-cancel',
      steps: [
        { type: 'sleep', input: { ms: 60_000 } },
        { type: 'echo', depends_on: [0] },
      ],
    });
    const cancelled = await call(t.base, 'POST', `/api/v1/workflows/${res.body.id}/cancel`, {
      reason: 'stop',
    });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    expect(cancelled.body.step_details.every((s: { status: string }) => s.status === 'cancelled')).toBe(true);
    const again = await call(t.base, 'POST', `/api/v1/workflows/${res.body.id}/cancel`);
    expect(again.status).toBe(409);
    const retried = await call(t.base, 'POST', `/api/v1/workflows/${res.body.id}/retry`);
    expect(retried.status).toBe(200);
    expect(retried.body.status).toBe('running');
    await call(t.base, 'POST', `/api/v1/workflows/${res.body.id}/cancel`);
  });

  it('refuses to retry a completed run (409) and unknown runs (404)', async () => {
    const res = await call(t.base, 'POST', '/api/v1/workflows', pipeline('wf-done'));
    await waitForWorkflow(t.base, res.body.id, terminal);
    expect((await call(t.base, 'POST', `/api/v1/workflows/${res.body.id}/retry`)).status).toBe(409);
    expect((await call(t.base, 'POST', '/api/v1/workflows/nope/retry')).status).toBe(404);
    expect((await call(t.base, 'POST', '/api/v1/workflows/nope/cancel')).status).toBe(404);
  });
});
