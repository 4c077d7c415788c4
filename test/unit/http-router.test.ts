import { describe, expect, it } from 'vitest';
import type { HttpContext, HttpReply, RouteMatch } from '../../src/transport/http/exchange.js';
import { Router } from '../../src/transport/http/router.js';

function ctx(method: string, path: string): HttpContext {
  return {
    method,
    path,
    query: '',
    headers: {},
    requestId: 'r',
    trace: { traceId: 't', spanId: 's', flags: '01' },
    params: {},
    body: undefined,
    aborted: false,
  };
}

const named = (name: string) => () => ({ status: 200, body: name });

function resolve(
  router: Router,
  method: string,
  path: string,
): { name?: unknown; params?: Record<string, string>; reply?: HttpReply } {
  const found = router.resolve(ctx(method, path));
  if ('handler' in found) {
    const match = found as RouteMatch;
    return { name: (match.handler(ctx(method, path)) as HttpReply).body, params: match.params };
  }
  return { reply: found };
}

describe('Router', () => {
  const router = new Router()
    .add('GET', '/jobs', named('list'))
    .add('POST', '/jobs', named('submit'))
    .add('POST', '/jobs/batch', named('batch'))
    .add('GET', '/jobs/:id', named('get'))
    .add('POST', '/jobs/:id/cancel', named('cancel'));

  it('captures and decodes parameters', () => {
    expect(resolve(router, 'GET', '/jobs/abc')).toEqual({ name: 'get', params: { id: 'abc' } });
    expect(resolve(router, 'POST', '/jobs/a%20b/cancel')).toEqual({ name: 'cancel', params: { id: 'a b' } });
    expect(resolve(router, 'GET', '/jobs/abc/')).toMatchObject({ name: 'get' });
  });

  it('prefers an existing literal path over a parameter', () => {
    expect(resolve(router, 'POST', '/jobs/batch').name).toBe('batch');
    const reply = resolve(router, 'GET', '/jobs/batch').reply!;
    expect(reply.status).toBe(405);
    expect(reply.headers?.allow).toBe('POST');
  });

  it('answers 404 for unknown paths, empty or undecodable segments and very long paths', () => {
    for (const path of ['/nope', '/jobs//cancel', '/jobs/%E0%A4%A', `/jobs${'/x'.repeat(40)}`, '/']) {
      expect(resolve(router, 'GET', path).reply?.status, path).toBe(404);
    }
  });

  it('answers 405 with every allowed method', () => {
    const reply = resolve(router, 'DELETE', '/jobs').reply!;
    expect(reply.status).toBe(405);
    expect(reply.headers?.allow).toBe('GET, POST');
  });

  it('refuses duplicate routes and clashing parameter names', () => {
    expect(() => new Router().add('GET', '/a', named('x')).add('GET', '/a', named('y'))).toThrow(/twice/);
    expect(() => new Router().add('GET', '/a/:id', named('x')).add('GET', '/a/:name/b', named('y'))).toThrow(
      /clashes/,
    );
  });
});
