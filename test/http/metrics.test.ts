/**
 * GET /metrics: Prometheus text from the server's own registry. Requests are counted by route
 * pattern (never the raw path), job transitions and latencies follow the event bus, queue depth
 * and workers are read at scrape time, and other modules can register metrics of their own.
 */
import { Gauge } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDirectServer } from './direct.js';
import { call, startTestServer, type TestServer, terminal, waitForJob } from './support.js';

async function scrape(base: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`${base}/metrics`, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

/** The value of one sample (`name{labels} value`), or undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (!(rest.startsWith('{') || rest.startsWith(' '))) continue;
    const labelText = rest.startsWith('{') ? rest.slice(1, rest.indexOf('}')) : '';
    const found: Record<string, string> = {};
    for (const match of labelText.matchAll(/(\w+)="([^"]*)"/g)) found[match[1]!] = match[2]!;
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(line.split(' ').pop());
  }
  return undefined;
}

describe('metrics', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.stop();
  });

  it('counts requests by route pattern and status, with latencies', async () => {
    const submitted = await call(t.base, 'POST', '/api/v1/jobs', { type: 'echo', input: 1 });
    const id = submitted.body.id as string;
    for (let i = 0; i < 5; i++) expect((await call(t.base, 'GET', `/api/v1/jobs/${id}`)).status).toBe(200);
    expect((await call(t.base, 'GET', '/api/v1/jobs/no-such-job')).status).toBe(404);
    expect((await call(t.base, 'GET', '/no/such/route')).status).toBe(404);

    const text = await scrape(t.base);
    const get = { method: 'GET', route: '/api/v1/jobs/:id' };
    expect(sample(text, 'mailroom_http_requests_total', { ...get, status: '200' })).toBeGreaterThanOrEqual(5);
    expect(sample(text, 'mailroom_http_requests_total', { ...get, status: '404' })).toBeGreaterThanOrEqual(1);
    expect(
      sample(text, 'mailroom_http_requests_total', { method: 'POST', route: '/api/v1/jobs', status: '202' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(text, 'mailroom_http_requests_total', { method: 'GET', route: '(unmatched)', status: '404' }),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'mailroom_http_request_duration_seconds_count', get)).toBeGreaterThanOrEqual(6);
    expect(sample(text, 'mailroom_http_request_duration_seconds_bucket', { ...get, le: '+Inf' })).toBe(
      sample(text, 'mailroom_http_request_duration_seconds_count', get),
    );
    // Labels are patterns: no raw path (and so no job id) ever becomes a label value.
    expect(text).not.toContain(id);
    expect(text).not.toContain('no-such-job');
    expect(text).not.toContain('/no/such/route');
  });

  it('follows job transitions and latencies by type from the event bus', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await call(t.base, 'POST', '/api/v1/jobs', { type: 'echo', input: i })).body.id);
    const failing = await call(t.base, 'POST', '/api/v1/jobs', { type: 'fail', input: { retryable: false } });
    for (const id of [...ids, failing.body.id]) await waitForJob(t.base, id, terminal);

    const text = await scrape(t.base);
    const events = (type: string, event: string) =>
      sample(text, 'mailroom_job_events_total', { type, event });
    expect(events('echo', 'job_submitted')).toBeGreaterThanOrEqual(3);
    expect(events('echo', 'job_started')).toBeGreaterThanOrEqual(3);
    expect(events('echo', 'job_completed')).toBeGreaterThanOrEqual(3);
    expect(events('fail', 'job_failed')).toBeGreaterThanOrEqual(1);
    expect(
      sample(text, 'mailroom_job_latency_seconds_count', { type: 'echo', outcome: 'completed' }),
    ).toBeGreaterThanOrEqual(3);
    expect(
      sample(text, 'mailroom_job_latency_seconds_count', { type: 'fail', outcome: 'failed' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(text, 'mailroom_job_run_seconds_count', { type: 'echo', outcome: 'completed' }),
    ).toBeGreaterThanOrEqual(3);
  });

  it('reads queue depth, running jobs and workers at scrape time', async () => {
    // A remote type with no worker connected waits in its queue.
    const waiting = await call(t.base, 'POST', '/api/v1/jobs', {
      type: 'text-to-image',
      input: { prompt: 'a cat' },
    });
    expect(waiting.status).toBe(202);
    let text = await scrape(t.base);
    expect(sample(text, 'mailroom_queue_depth', { type: 'text-to-image' })).toBe(1);
    // Every configured type is there, idle ones at 0.
    expect(sample(text, 'mailroom_queue_depth', { type: 'upscale' })).toBe(0);
    expect(sample(text, 'mailroom_queue_pending')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'mailroom_queue_running')).toBe(0);
    expect(sample(text, 'mailroom_workers_connected')).toBe(0);
    expect(sample(text, 'mailroom_jobs', { status: 'pending' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'mailroom_sse_streams')).toBe(0);
    // Node's own metrics, event-loop lag among them.
    expect(sample(text, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);

    // The same numbers as GET /api/v1/stats reports.
    const stats = await call(t.base, 'GET', '/api/v1/stats');
    text = await scrape(t.base);
    for (const [type, depth] of Object.entries(stats.body.queue.queued as Record<string, number>)) {
      expect(sample(text, 'mailroom_queue_depth', { type }), type).toBe(depth);
    }
  });
});

describe('metrics registries', () => {
  it('are per server, take metrics from other modules, and sit behind the API key', async () => {
    const a = await startDirectServer({ apiKeys: ['k1'] });
    const b = await startDirectServer();
    try {
      expect((await call(a.base, 'GET', '/metrics')).status).toBe(401);
      for (let i = 0; i < 3; i++)
        await call(a.base, 'GET', '/api/v1/stats', undefined, { 'x-api-key': 'k1' });
      await call(b.base, 'GET', '/api/v1/stats');
      const pattern = { method: 'GET', route: '/api/v1/stats', status: '200' };
      expect(
        sample(await scrape(a.base, { 'x-api-key': 'k1' }), 'mailroom_http_requests_total', pattern),
      ).toBe(3);
      expect(sample(await scrape(b.base), 'mailroom_http_requests_total', pattern)).toBe(1);

      // The hook for other modules (pool, threads, WebSockets): register on the server's registry.
      new Gauge({
        name: 'mailroom_example_widgets',
        help: 'A module-owned gauge',
        registers: [b.server.metrics.registry],
        collect() {
          this.set(42);
        },
      });
      expect(sample(await scrape(b.base), 'mailroom_example_widgets')).toBe(42);
      expect(sample(await scrape(a.base, { 'x-api-key': 'k1' }), 'mailroom_example_widgets')).toBeUndefined();
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
