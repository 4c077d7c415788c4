/**
 * What clients see when the domain fails: a store outage is 503 STORE_UNAVAILABLE with
 * Retry-After (nothing acknowledged), an unexpected throw is a bare 500 INTERNAL. Runs the real
 * edge over a real socket with a stub app, since the failures are the app's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Mailroom } from '../../src/app/mailroom.js';
import { MailroomError } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import { createServer, type MailroomServer } from '../../src/transport/server.js';
import { call } from './support.js';

let server: MailroomServer;
let base: string;

beforeAll(async () => {
  const down = () => Promise.reject(new MailroomError('STORE_UNAVAILABLE', 'redis: connection refused'));
  const app = {
    submitJob: down,
    getJob: down,
    peekJob: () => undefined,
    peekWorkflow: () => undefined,
    getWorkflow: () => Promise.reject(new Error('secret internals: /etc/passwd')),
    stats: () =>
      Promise.reject(new MailroomError('ASK_TIMEOUT', 'dispatcher:main did not answer within 10000 ms')),
  } as unknown as Mailroom;
  server = createServer({
    logger: createLogger({ level: 'silent' }),
    storeName: 'stub',
    ready: () => Promise.reject(new Error('down')),
    readyTimeoutMs: 100,
    app,
    maxBodyBytes: 1024,
    apiKeys: [],
    rateLimit: { enabled: true, requests_per_second: 1_000, burst: 2_000 },
  });
  const port = await server.listen('127.0.0.1', 0);
  base = `http://127.0.0.1:${port}`;
});

afterAll(() => {
  server.close();
});

describe('domain failures over HTTP', () => {
  it('answers 503 STORE_UNAVAILABLE with Retry-After', async () => {
    for (const [method, path, body] of [
      ['POST', '/api/v1/jobs', { type: 'echo' }],
      ['GET', '/api/v1/jobs/abc', undefined],
      ['GET', '/api/jobs/abc/status', undefined],
    ] as const) {
      const res = await call(base, method, path, body);
      expect(res.status, path).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.body.error.code).toBe('STORE_UNAVAILABLE');
    }
    const ready = await call(base, 'GET', '/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.headers.get('retry-after')).toBe('1');
  });

  it('answers 504 ASK_TIMEOUT as the registry says', async () => {
    const res = await call(base, 'GET', '/api/v1/stats');
    expect(res.status).toBe(504);
    expect(res.body.error.code).toBe('ASK_TIMEOUT');
  });

  it('answers an unexpected throw with a bare 500 INTERNAL that leaks nothing', async () => {
    const res = await call(base, 'GET', '/api/v1/workflows/abc');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: { code: 'INTERNAL', message: 'Internal error' } });
  });
});
