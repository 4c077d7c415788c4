/**
 * GET /api/v1/stats and GET /api/v1/workers over real sockets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeWorker } from '../app/support/fake-worker.js';
import { call, startTestServer, type TestServer, terminal, waitForJob } from './support.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.stop();
});

describe('GET /api/v1/stats', () => {
  it('counts by status and type and reports the last minute', async () => {
    const { body } = await call(t.base, 'POST', '/api/v1/jobs', { type: 'echo' });
    await waitForJob(t.base, body.id, terminal);
    const res = await call(t.base, 'GET', '/api/v1/stats');
    expect(res.status).toBe(200);
    expect(res.body.jobs.by_status.completed).toBeGreaterThanOrEqual(1);
    expect(res.body.jobs.by_type.echo).toBeGreaterThanOrEqual(1);
    expect(res.body.workflows.by_status).toHaveProperty('running');
    expect(res.body.last_minute).toMatchObject({ window_seconds: 60 });
    expect(res.body.last_minute.completed).toBeGreaterThanOrEqual(1);
    expect(res.body.last_minute.latency_ms).toHaveProperty('p99');
  });

  it('is GET only', async () => {
    const res = await call(t.base, 'POST', '/api/v1/stats', {});
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET');
  });
});

describe('GET /api/v1/workers', () => {
  it('lists connected remote workers and forgets disconnected ones', async () => {
    const empty = await call(t.base, 'GET', '/api/v1/workers');
    expect(empty).toMatchObject({ status: 200, body: { items: [] } });
    const worker = FakeWorker.connect(t.server.app, {
      name: 'gpu-box',
      types: ['text-to-image'],
      gpuMemoryGb: 24,
      slots: 2,
    });
    await t.server.app.system.idle();
    const listed = await call(t.base, 'GET', '/api/v1/workers');
    expect(listed.body.items).toEqual([
      expect.objectContaining({
        id: worker.id,
        name: 'gpu-box',
        types: ['text-to-image'],
        capabilities: { gpu_memory_gb: 24, labels: [] },
        slots: 2,
        running: 0,
        last_seen: expect.any(String),
      }),
    ]);
    t.server.app.disconnectWorker(worker.id);
    await t.server.app.system.idle();
    expect((await call(t.base, 'GET', '/api/v1/workers')).body.items).toEqual([]);
  });
});
