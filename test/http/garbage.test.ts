/**
 * Unbreakable: random bytes, broken HTTP, absurd headers, huge URLs, deep nesting and random
 * JSON on every route. Afterwards the server (running in this very process, so a crash would
 * fail the run) still serves correctly, and nothing ever answered 5xx.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, raw, startTestServer, type TestServer, terminal, waitForJob } from './support.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ file: { max_body_bytes: 256 * 1024 } });
});
afterAll(async () => {
  await t.stop();
});

/** A deterministic byte stream, so a failure can be replayed. */
function bytes(seed: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

async function expectHealthy(): Promise<void> {
  expect((await call(t.base, 'GET', '/health')).status).toBe(200);
  const res = await call(t.base, 'POST', '/api/v1/jobs', { type: 'echo', input: { still: 'alive' } });
  expect(res.status).toBe(202);
  const job = await waitForJob(t.base, res.body.id, terminal);
  expect(job.output).toEqual({ still: 'alive' });
}

/** Status code of a raw response, or null when the server just closed the connection. */
function statusOf(text: string): number | null {
  const match = /^HTTP\/1\.1 (\d{3}) /.exec(text);
  return match ? Number(match[1]) : null;
}

const BROKEN_HTTP: Array<string | Buffer> = [
  '\r\n\r\n',
  'GET\r\n\r\n',
  'GET / HTTP/9.9\r\nHost: x\r\n\r\n',
  'GET /health HTTP/1.1\r\n\r\n',
  'GET /health HTTP/1.1\r\nHost x\r\n\r\n',
  'GET /health HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n',
  'get /health http/1.1\r\nHost: x\r\n\r\n',
  'BREW /api/v1/jobs HTTP/1.1\r\nHost: x\r\n\r\n',
  'POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n',
  'POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n',
  'POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  'POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n',
  'POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nabc',
  'POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n{"type":"echo"}GARBAGE\r\n\r\n',
  'GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n',
  'GET /%00%ff%ZZ/%2e%2e/%2F HTTP/1.1\r\nHost: x\r\n\r\n',
  'GET /api/v1/jobs/%E0%A4%A HTTP/1.1\r\nHost: x\r\n\r\n',
  'GET http://evil.example/api/v1/stats HTTP/1.1\r\nHost: x\r\n\r\n',
  'GET * HTTP/1.1\r\nHost: x\r\n\r\n',
  'CONNECT evil.example:443 HTTP/1.1\r\nHost: x\r\n\r\n',
  'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
  'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
  Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]),
];

describe('garbage corpus', () => {
  it('survives random bytes', async () => {
    for (let seed = 1; seed <= 40; seed++) {
      const res = await raw(t.base, bytes(seed, 1 + ((seed * 977) % 4096)), { timeoutMs: 100 });
      const status = statusOf(res.text);
      if (status !== null) expect(status).toBeLessThan(500);
    }
    await expectHealthy();
  });

  it('survives broken HTTP, never answering 5xx', async () => {
    for (const request of BROKEN_HTTP) {
      const res = await raw(t.base, request, { timeoutMs: 250 });
      for (const match of res.text.matchAll(/HTTP\/1\.1 (\d{3}) /g)) {
        expect(Number(match[1]), String(request).slice(0, 60)).toBeLessThan(500);
      }
    }
    await expectHealthy();
  });

  it('survives absurd headers', async () => {
    const many = Array.from({ length: 500 }, (_, i) => `X-H${i}: ${i}\r\n`).join('');
    const requests = [
      `GET /api/v1/stats HTTP/1.1\r\nHost: x\r\n${many}\r\n`,
      `GET /api/v1/stats HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(64 * 1024)}\r\n\r\n`,
      `GET /api/v1/stats HTTP/1.1\r\nHost: x\r\nX-Huge: ${'b'.repeat(4 * 1024 * 1024)}\r\n\r\n`,
      `GET /api/v1/stats HTTP/1.1\r\nHost: x\r\nAccept: ${'application/msgpack;'.repeat(2_000)}\r\n\r\n`,
      `GET /api/v1/stats HTTP/1.1\r\nHost: x\r\nX-Request-Id: ${'\u00ff\u0001'.repeat(20)}\r\nTraceparent: ${'00-'.repeat(5_000)}\r\n\r\n`,
      `GET /api/v1/stats HTTP/1.1\r\nHost: x\r\nX-Api-Key: ${'k'.repeat(10_000)}\r\nAuthorization: Bearer ${'t'.repeat(10_000)}\r\n\r\n`,
      `POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: ${'application/msgpack'.repeat(500)}\r\nContent-Length: 2\r\n\r\n{}`,
    ];
    for (const request of requests) {
      const res = await raw(t.base, request, { timeoutMs: 1_000 });
      const status = statusOf(res.text);
      if (status !== null) expect(status, request.slice(0, 60)).toBeLessThan(500);
    }
    await expectHealthy();
  });

  it('survives huge URLs', async () => {
    const urls = [
      `/${'a'.repeat(100_000)}`,
      `/api/v1/jobs/${'x'.repeat(50_000)}`,
      `/api/v1/jobs?${'status=completed&'.repeat(5_000)}`,
      `/api/v1/jobs?cursor=${'Zm9v'.repeat(10_000)}`,
      `/api/v1/jobs?limit=${'9'.repeat(400)}`,
      `/${'a/'.repeat(20_000)}`,
      `/api/jobs/${'%41'.repeat(10_000)}/status`,
    ];
    for (const url of urls) {
      const res = await raw(t.base, `GET ${url} HTTP/1.1\r\nHost: x\r\n\r\n`, { timeoutMs: 1_000 });
      const status = statusOf(res.text);
      if (status !== null) expect(status, url.slice(0, 60)).toBeLessThan(500);
      expect(res.text.length).toBeLessThan(4_096);
    }
    await expectHealthy();
  });

  it('survives clients that vanish mid-request and mid-body', async () => {
    for (let i = 0; i < 20; i++) {
      await raw(
        t.base,
        `POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"type":"echo","input":"${'z'.repeat(i * 10)}`,
        { timeoutMs: 20 },
      );
      await raw(t.base, 'GET /api/v1/stats HTTP/1.1\r\nHo', { timeoutMs: 20 });
    }
    await expectHealthy();
  });

  it('survives nesting 10,000 deep in every shape', async () => {
    const bodies = [
      '['.repeat(10_000) + ']'.repeat(10_000),
      `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`,
      `{"type":"echo","input":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`,
      '['.repeat(10_000),
    ];
    for (const path of ['/api/v1/jobs', '/api/v1/workflows', '/api/jobs/submit', '/api/workflows']) {
      for (const body of bodies) {
        const res = await call(t.base, 'POST', path, body);
        expect(res.status, `${path} ${body.slice(0, 20)}`).toBe(400);
      }
    }
    await expectHealthy();
  });

  it('answers random JSON on every route with a 2xx or a registry 4xx, never 5xx', async () => {
    const routes: Array<[string, string]> = [
      ['POST', '/api/v1/jobs'],
      ['POST', '/api/v1/jobs/batch'],
      ['POST', '/api/v1/jobs/x/cancel'],
      ['POST', '/api/v1/workflows'],
      ['POST', '/api/jobs/submit'],
      ['POST', '/api/jobs/x/cancel'],
      ['POST', '/api/workflows'],
    ];
    const jobish = fc.record(
      {
        type: fc.oneof(fc.constantFrom('echo', 'sleep', 'fail', 'text-to-image', 'nope'), fc.string()),
        input: fc.jsonValue({ maxDepth: 4 }),
        prompt: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
        priority: fc.oneof(fc.integer({ min: -5, max: 200 }), fc.string()),
        delay_ms: fc.constant(3_600_000),
        depends_on: fc.oneof(
          fc.array(fc.string(), { maxLength: 3 }),
          fc.array(fc.integer({ min: -1, max: 5 })),
        ),
        name: fc.string(),
        steps: fc.array(
          fc.record({
            type: fc.constantFrom('echo', 'nope'),
            depends_on: fc.array(fc.integer({ min: -1, max: 4 })),
          }),
          { maxLength: 4 },
        ),
        jobs: fc.array(
          fc.record({ type: fc.constantFrom('echo', 'nope'), delay_ms: fc.constant(3_600_000) }),
          {
            maxLength: 3,
          },
        ),
        reason: fc.oneof(fc.string(), fc.integer()),
        __proto__: fc.jsonValue({ maxDepth: 2 }),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.oneof(jobish, fc.jsonValue({ maxDepth: 6 })),
        async ([method, path], body) => {
          const res = await call(t.base, method, path, JSON.stringify(body));
          expect(res.status).toBeLessThan(500);
          if (res.status >= 400) {
            expect(typeof res.body.error.code).toBe('string');
            expect(typeof res.body.error.message).toBe('string');
          }
        },
      ),
      { numRuns: 400, seed: 20_261_123 },
    );
    await expectHealthy();
  });
});
