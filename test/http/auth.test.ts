/**
 * API keys and per-key rate limits: with API_KEYS set every route except /health* needs a key
 * (x-api-key or Authorization: Bearer), and each key has a token bucket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestServer, type TestServer } from './support.js';

const KEY = 'secret-key-1';
const OTHER = 'another-key-2';

/** Every route with a body it accepts, so an authorized call exercises the real handler. */
const ROUTES: Array<[string, string, unknown?]> = [
  ['POST', '/api/v1/jobs', { type: 'echo' }],
  ['POST', '/api/v1/jobs/batch', { jobs: [{ type: 'echo' }] }],
  ['GET', '/api/v1/jobs'],
  ['GET', '/api/v1/jobs/some-id'],
  ['POST', '/api/v1/jobs/some-id/cancel'],
  ['POST', '/api/v1/jobs/some-id/retry'],
  ['POST', '/api/v1/workflows', { name: 'w', steps: [{ type: 'echo' }] }],
  ['GET', '/api/v1/workflows'],
  ['GET', '/api/v1/workflows/some-id'],
  ['POST', '/api/v1/workflows/some-id/cancel'],
  ['POST', '/api/v1/workflows/some-id/retry'],
  ['GET', '/api/v1/stats'],
  ['GET', '/api/v1/workers'],
  ['GET', '/api/v1/events?topics=*'],
  ['GET', '/metrics'],
  ['GET', '/openapi.json'],
  ['POST', '/api/jobs/submit', { type: 'echo' }],
  ['GET', '/api/jobs/some-id/status'],
  ['POST', '/api/jobs/some-id/cancel'],
  ['GET', '/api/jobs/stats?timeframe=hour'],
  ['POST', '/api/workflows', { name: 'w', steps: [{ type: 'echo' }] }],
  ['GET', '/api/workflows/some-id/status'],
  ['POST', '/api/workflows/some-id/cancel'],
  ['GET', '/api/workflows/stats'],
  ['GET', '/no/such/route'],
];

describe('with API_KEYS set', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ apiKeys: `${KEY},${OTHER}` });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('answers 401 UNAUTHORIZED on every route but /health* without a key', async () => {
    for (const [method, path, body] of ROUTES) {
      const res = await call(t.base, method, path, body);
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.body.error.code).toBe('UNAUTHORIZED');
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
    }
    expect((await call(t.base, 'GET', '/health')).status).toBe(200);
    expect((await call(t.base, 'GET', '/health/ready')).status).toBe(200);
  });

  it('answers 401 for a wrong key, a key of another length, an empty one or a non-Bearer scheme', async () => {
    const attempts: Array<Record<string, string>> = [
      { 'x-api-key': 'secret-key-9' },
      { 'x-api-key': 'x' },
      { 'x-api-key': `${KEY}${KEY}` },
      { authorization: 'Bearer nope' },
      { authorization: `Basic ${Buffer.from(`u:${KEY}`).toString('base64')}` },
      { authorization: 'Bearer' },
    ];
    for (const headers of attempts) {
      const res = await call(t.base, 'GET', '/api/v1/stats', undefined, headers);
      expect(res.status, JSON.stringify(headers)).toBe(401);
    }
  });

  it('lets a right key through on every route, as x-api-key or Bearer', async () => {
    for (const [i, [method, path, body]] of ROUTES.entries()) {
      const headers: Record<string, string> =
        i % 2 === 0 ? { 'x-api-key': KEY } : { authorization: `Bearer ${OTHER}` };
      if (path.startsWith('/api/v1/events') || path === '/metrics') {
        // Not JSON (a stream never ends by itself): check how it starts, then hang up.
        const abort = new AbortController();
        const res = await fetch(`${t.base}${path}`, { headers, signal: abort.signal });
        expect(res.status, path).toBe(200);
        abort.abort();
        continue;
      }
      const res = await call(t.base, method, path, body, headers);
      expect(res.status, `${method} ${path}`).not.toBe(401);
      expect(res.status, `${method} ${path}`).toBeLessThan(500);
    }
    const bearer = await call(t.base, 'GET', '/api/v1/stats', undefined, { authorization: `bearer ${KEY}` });
    expect(bearer.status).toBe(200);
  });

  it('keeps the compatibility error shape on 401', async () => {
    const res = await call(t.base, 'POST', '/api/jobs/submit', { type: 'echo' });
    expect(res.body).toMatchObject({ success: false, error: { code: 'UNAUTHORIZED' } });
  });
});

describe('rate limits', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({
      apiKeys: `${KEY},${OTHER}`,
      file: { rate_limit: { requests_per_second: 0.5, burst: 3 } },
    });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('answers 429 RATE_LIMITED with Retry-After once a key spent its burst; other keys and /health go on', async () => {
    const headers = { 'x-api-key': KEY };
    for (let i = 0; i < 3; i++) {
      expect((await call(t.base, 'GET', '/api/v1/stats', undefined, headers)).status).toBe(200);
    }
    const limited = await call(t.base, 'GET', '/api/v1/stats', undefined, headers);
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('RATE_LIMITED');
    // One token comes back every 2 s at 0.5/s.
    expect(Number(limited.headers.get('retry-after'))).toBe(2);
    expect((await call(t.base, 'GET', '/api/v1/stats', undefined, { 'x-api-key': OTHER })).status).toBe(200);
    expect((await call(t.base, 'GET', '/health')).status).toBe(200);
  });

  it('does not charge unauthenticated requests to anyone', async () => {
    for (let i = 0; i < 5; i++) expect((await call(t.base, 'GET', '/api/v1/stats')).status).toBe(401);
    expect((await call(t.base, 'GET', '/api/v1/stats', undefined, { 'x-api-key': OTHER })).status).toBe(200);
  });
});

describe('with API_KEYS unset', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ file: { rate_limit: { burst: 1, requests_per_second: 0.001 } } });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('needs no key and applies no rate limit', async () => {
    for (let i = 0; i < 5; i++) expect((await call(t.base, 'GET', '/api/v1/stats')).status).toBe(200);
  });
});
