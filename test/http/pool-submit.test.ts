/**
 * The payload pool behind POST /api/v1/jobs: large bodies are prepared on it and small ones inline
 * (visible in the pool's stats), an invalid large input gets the same 400 details as a small one,
 * identical large inputs dedupe with `idempotency_key: "content"`, the checksum type hashes on the
 * pool, and a saturated pool answers 503 OVERLOADED without holding more than it may.
 */
import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JobState, jobRef } from '../../src/actors/job.js';
import { EncodedInput } from '../../src/runtime/pool/encoded-input.js';
import { call, startTestServer, type TestServer, waitForJob } from './support.js';

const THRESHOLD = 32 * 1024;

describe('payload pool on the submit path', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ file: { pool: { threshold_bytes: THRESHOLD, threads: 1, max_queue: 8 } } });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('prepares large payloads on the pool and small ones inline', async () => {
    const before = t.server.pool.stats();
    const small = await call(t.base, 'POST', '/api/v1/jobs', { type: 'echo', input: { text: 'hi' } });
    expect(small.status).toBe(202);
    const afterSmall = t.server.pool.stats();
    expect(afterSmall.inline).toBe(before.inline + 1);
    expect(afterSmall.pooled).toBe(before.pooled);

    const text = 'x'.repeat(THRESHOLD * 4);
    const large = await call(t.base, 'POST', '/api/v1/jobs', { type: 'echo', input: { text } });
    expect(large.status).toBe(202);
    const afterLarge = t.server.pool.stats();
    expect(afterLarge.pooled).toBe(afterSmall.pooled + 1);
    expect(afterLarge.task_latency.count).toBeGreaterThan(before.task_latency.count);
    const done = await waitForJob(t.base, large.body.id, (job) => job.status === 'completed', {}, 15_000);
    expect(done.output.text).toBe(text);

    // The same counts on /metrics.
    const metrics = await (await fetch(`${t.base}/metrics`)).text();
    expect(metrics).toContain(`mailroom_pool_payloads{where="pool"} ${t.server.pool.stats().pooled}`);
    expect(metrics).toMatch(/mailroom_pool_payloads\{where="inline"\} \d+/);
    expect(metrics).toMatch(/mailroom_pool_queue_depth \d+/);
  });

  it('answers an invalid large input with the same 400 details as a small one', async () => {
    const small = await call(t.base, 'POST', '/api/v1/jobs', { type: 'sleep', input: { ms: -5 } });
    const large = await call(t.base, 'POST', '/api/v1/jobs', {
      type: 'sleep',
      input: { ms: -5, padding: 'p'.repeat(THRESHOLD * 2) },
    });
    expect(small.status).toBe(400);
    expect(large.status).toBe(400);
    expect(large.body.error.code).toBe('VALIDATION_FAILED');
    expect(large.body.error.details).toEqual(small.body.error.details);
    expect(large.body.error.message).toBe(small.body.error.message);

    const pooled = t.server.pool.stats().pooled;
    const malformed = await call(
      t.base,
      'POST',
      '/api/v1/jobs',
      `{"type":"echo","input":"${'y'.repeat(THRESHOLD * 2)}`,
    );
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('INVALID_JSON');
    expect(t.server.pool.stats().pooled).toBe(pooled + 1);
  });

  it('prepares large MessagePack bodies on the pool too', async () => {
    const body = new Packr({ useRecords: false }).pack({
      type: 'echo',
      input: { text: 'm'.repeat(THRESHOLD * 2) },
    });
    const res = await fetch(`${t.base}/api/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/msgpack' },
      body,
    });
    expect(res.status).toBe(202);
  });

  it('dedupes identical large inputs with idempotency_key "content"', async () => {
    const input = { data: 'd'.repeat(THRESHOLD * 2) };
    const first = await call(t.base, 'POST', '/api/v1/jobs', {
      type: 'checksum',
      input,
      idempotency_key: 'content',
    });
    // Same content with the keys in another order: same digest, same job.
    const again = await call(
      t.base,
      'POST',
      '/api/v1/jobs',
      `{"idempotency_key":"content","input":${JSON.stringify(input)},"type":"checksum"}`,
    );
    expect(first.status).toBe(202);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    expect(first.body.idempotency_key).toMatch(/^content:[0-9a-f]{64}$/);
    // A small one hashed inline gets a key of the same form.
    const small = await call(t.base, 'POST', '/api/v1/jobs', {
      type: 'checksum',
      input: { data: 'small' },
      idempotency_key: 'content',
    });
    expect(small.body.idempotency_key).toMatch(/^content:[0-9a-f]{64}$/);
    expect(small.body.id).not.toBe(first.body.id);
  });

  it('runs the checksum type on the pool', async () => {
    const data = 'c'.repeat(THRESHOLD * 3);
    const pooled = t.server.pool.stats().pooled;
    const res = await call(t.base, 'POST', '/api/v1/jobs', { type: 'checksum', input: { data } });
    const job = await waitForJob(t.base, res.body.id, (j) => j.status === 'completed', {}, 15_000);
    const { createHash } = await import('node:crypto');
    expect(job.output).toEqual({
      sha256: createHash('sha256').update(data).digest('hex'),
      bytes: data.length,
    });
    // Two pool tasks: preparing the submit and hashing the data.
    expect(t.server.pool.stats().pooled).toBe(pooled + 2);
  });

  it('keeps a large input as its JSON text: replies, reads and runs see the same input', async () => {
    const data = `é "quoted" \\ ${'k'.repeat(THRESHOLD * 2)}`;
    const input = { data, list: [1, { nested: true }], note: '"input":null' };
    // Written by hand with odd spacing and an escape, as some clients send it.
    const text = `{ "type" : "checksum",\n "input" :  ${JSON.stringify(input, null, 1)} , "metadata":{"input":null} }`;
    const res = await call(t.base, 'POST', '/api/v1/jobs', text);
    expect(res.status).toBe(202);
    expect(res.body.input).toEqual(input);
    expect(res.body.metadata).toEqual({ input: null });
    const job = await waitForJob(t.base, res.body.id, (j) => j.status === 'completed', {}, 15_000);
    expect(job.input).toEqual(input);
    // Polled again, the unchanged job is answered from its one encoding (spliced once).
    expect((await call(t.base, 'GET', `/api/v1/jobs/${res.body.id}`)).body).toEqual(job);
    const { createHash } = await import('node:crypto');
    expect(job.output).toEqual({
      sha256: createHash('sha256').update(data).digest('hex'),
      bytes: Buffer.byteLength(data),
    });
    const packed = await fetch(`${t.base}/api/v1/jobs/${res.body.id}`, {
      headers: { accept: 'application/msgpack' },
    });
    expect(new Packr({ useRecords: false }).unpack(Buffer.from(await packed.arrayBuffer())).input).toEqual(
      input,
    );
    expect((await t.server.app.getJob(res.body.id)).input).toEqual(input);
    const state = await t.server.app.system.ask<JobState>(jobRef(res.body.id), { type: 'get' });
    expect(state.input).toBeInstanceOf(EncodedInput);

    // echo's output is the input as a value.
    const echo = await call(t.base, 'POST', '/api/v1/jobs', { type: 'echo', input });
    const echoed = await waitForJob(t.base, echo.body.id, (j) => j.status === 'completed', {}, 15_000);
    expect(echoed.output).toEqual(input);
  });
});

describe('a saturated payload pool', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ file: { pool: { threshold_bytes: 1024, threads: 1, max_queue: 1 } } });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('answers 503 OVERLOADED with Retry-After and never holds more than threads + max_queue', async () => {
    // Many small objects: slow to parse, check and hash, so the single thread stays busy.
    const input = { items: Array.from({ length: 40_000 }, (_, i) => ({ i, s: `item-${i}` })) };
    const body = JSON.stringify({ type: 'echo', input });
    let maxHeld = 0;
    const sampler = setInterval(() => {
      maxHeld = Math.max(maxHeld, t.server.pool.stats().in_flight);
    }, 1);
    const replies = await Promise.all(
      Array.from({ length: 16 }, () =>
        fetch(`${t.base}/api/v1/jobs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        }),
      ),
    );
    clearInterval(sampler);
    const statuses = replies.map((r) => r.status);
    const refused = replies.filter((r) => r.status === 503);
    expect(refused.length, `statuses ${statuses.join(',')}`).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 202 || s === 503)).toBe(true);
    for (const res of refused) {
      expect(res.headers.get('retry-after')).toBe('1');
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('OVERLOADED');
    }
    const stats = t.server.pool.stats();
    expect(stats.overloaded).toBeGreaterThanOrEqual(refused.length);
    expect(maxHeld).toBeLessThanOrEqual(2);
    expect(stats.queue_depth).toBe(0);
    // Once drained, it is ready and takes work again.
    expect((await call(t.base, 'GET', '/health/ready')).status).toBe(200);
    expect(
      (
        await fetch(`${t.base}/api/v1/jobs`, {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json' },
        })
      ).status,
    ).toBe(202);
  });
});
