/**
 * The HTTP contract around the routes: body limits answered early, malformed bodies, nesting
 * limits, MessagePack in and out, request ids and W3C traceparent (into the job's events).
 */
import { Packr, unpack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MailroomEvent } from '../../src/schemas/events.js';
import { call, raw, startTestServer, type TestServer, terminal, waitForJob } from './support.js';

const MAX = 64 * 1024;
let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ file: { max_body_bytes: MAX } });
});
afterAll(async () => {
  await t.stop();
});

describe('body size', () => {
  it('answers 413 from a huge Content-Length at once, without waiting for the body', async () => {
    const res = await raw(t.base, [
      'POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n',
      'Content-Length: 999999999\r\n\r\n{"type":"echo","input":"',
    ]);
    expect(res.text).toMatch(/^HTTP\/1\.1 413 /);
    expect(res.text).toContain('"code":"PAYLOAD_TOO_LARGE"');
    expect(res.text.toLowerCase()).toContain('connection: close');
    expect(res.closed).toBe(true);
    expect(res.elapsedMs).toBeLessThan(1_000);
  });

  it('drops a Content-Length of ten digits or more at once (uWS refuses it before any reply)', async () => {
    const res = await raw(
      t.base,
      'POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000000\r\n\r\n{',
    );
    expect(res.closed).toBe(true);
    expect(res.elapsedMs).toBeLessThan(1_000);
    expect((await call(t.base, 'GET', '/health')).status).toBe(200);
  });

  it('answers an unrouted request at once and closes rather than drain its oversized body', async () => {
    const res = await raw(
      t.base,
      'POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\nabc',
    );
    expect(res.text).toMatch(/^HTTP\/1\.1 404 /);
    expect(res.closed).toBe(true);
  });

  it('answers 413 as soon as the received bytes of a chunked body pass the limit', async () => {
    const chunk = 'a'.repeat(16 * 1024);
    const part = `${chunk.length.toString(16)}\r\n${chunk}\r\n`;
    const res = await raw(t.base, [
      'POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n',
      // Five chunks pass 64 KiB; the body never ends (no terminating chunk).
      ...Array.from({ length: 5 }, () => part),
    ]);
    expect(res.text).toMatch(/^HTTP\/1\.1 413 /);
    expect(res.elapsedMs).toBeLessThan(1_000);
  });

  it('accepts a body just under the limit and a chunked one', async () => {
    const input = 'x'.repeat(MAX - 100);
    const ok = await call(t.base, 'POST', '/api/v1/jobs', { type: 'echo', input });
    expect(ok.status).toBe(202);
    const body = JSON.stringify({ type: 'echo', input: 'chunked' });
    const res = await raw(t.base, [
      'POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n',
      `${(10).toString(16)}\r\n${body.slice(0, 10)}\r\n`,
      `${(body.length - 10).toString(16)}\r\n${body.slice(10)}\r\n0\r\n\r\n`,
    ]);
    expect(res.text).toMatch(/^HTTP\/1\.1 202 /);
  });

  it('answers 413 for one byte over, via fetch', async () => {
    const res = await call(t.base, 'POST', '/api/v1/jobs', 'x'.repeat(MAX + 1));
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });
});

describe('malformed bodies', () => {
  it('answers 400 INVALID_JSON for broken JSON', async () => {
    for (const body of ['{', '{"type": echo}', '\u0000\u0001', '{"a":1}}', "{'type':'echo'}"]) {
      const res = await call(t.base, 'POST', '/api/v1/jobs', body);
      expect(res.status, body).toBe(400);
      expect(res.body.error.code).toBe('INVALID_JSON');
    }
  });

  it('refuses JSON nested deeper than 128 levels with VALIDATION_FAILED', async () => {
    const deep = `{"type":"echo","input":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    const res = await call(t.base, 'POST', '/api/v1/jobs', deep);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: '(body)' }] });
    const fine = `{"type":"echo","input":${'['.repeat(100)}${']'.repeat(100)}}`;
    expect((await call(t.base, 'POST', '/api/v1/jobs', fine)).status).toBe(202);
    // Brackets inside strings do not count.
    const text = JSON.stringify({ type: 'echo', input: '['.repeat(1_000) });
    expect((await call(t.base, 'POST', '/api/v1/jobs', text)).status).toBe(202);
  });
});

describe('MessagePack', () => {
  const packr = new Packr({ useRecords: false });

  it('accepts application/msgpack bodies and answers msgpack when asked', async () => {
    const res = await fetch(`${t.base}/api/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/msgpack', accept: 'application/msgpack' },
      body: packr.pack({ type: 'echo', input: { n: 7, bytes: Buffer.from([1, 2, 3]), big: 2 ** 40 } }),
    });
    expect(res.status).toBe(202);
    expect(res.headers.get('content-type')).toBe('application/msgpack');
    const job = unpack(Buffer.from(await res.arrayBuffer())) as {
      id: string;
      input: Record<string, unknown>;
    };
    expect(job.input.n).toBe(7);
    expect(job.input.big).toBe(2 ** 40);
    expect(Buffer.from(job.input.bytes as Uint8Array)).toEqual(Buffer.from([1, 2, 3]));
    const done = await waitForJob(t.base, job.id, terminal);
    expect(done.output.n).toBe(7);
  });

  it('answers JSON to msgpack bodies unless asked, and msgpack errors when asked', async () => {
    const json = await fetch(`${t.base}/api/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/msgpack' },
      body: packr.pack({ type: 'echo' }),
    });
    expect(json.status).toBe(202);
    expect(json.headers.get('content-type')).toMatch(/^application\/json/);
    expect(((await json.json()) as { type: string }).type).toBe('echo');
    const err = await fetch(`${t.base}/api/v1/jobs/nope`, { headers: { accept: 'application/msgpack' } });
    expect(err.status).toBe(404);
    expect(unpack(Buffer.from(await err.arrayBuffer()))).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });

  it('answers 400 INVALID_MSGPACK for broken msgpack and VALIDATION_FAILED for absurd nesting', async () => {
    const broken = await fetch(`${t.base}/api/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/msgpack' },
      body: Buffer.from([0xdf, 0xff, 0xff, 0xff, 0xff]),
    });
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { error: { code: string } }).error.code).toBe('INVALID_MSGPACK');
    // 10,000 nested one-element arrays: 0x91 repeated, then nil.
    const deep = Buffer.concat([
      Buffer.from([0x82, 0xa4]),
      Buffer.from('type'),
      Buffer.from([0xa4]),
      Buffer.from('echo'),
    ]);
    const nested = Buffer.concat([
      deep,
      Buffer.from([0xa5]),
      Buffer.from('input'),
      Buffer.alloc(10_000, 0x91),
      Buffer.from([0xc0]),
    ]);
    const res = await fetch(`${t.base}/api/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/msgpack' },
      body: nested,
    });
    expect(res.status).toBe(400);
  });
});

describe('request ids and traceparent', () => {
  it('echoes x-request-id on every response, including early errors', async () => {
    for (const [method, path, body] of [
      ['GET', '/api/v1/stats', undefined],
      ['GET', '/nowhere', undefined],
      ['POST', '/api/v1/jobs', '{'],
    ] as const) {
      const res = await call(t.base, method, path, body, { 'x-request-id': 'req-42' });
      expect(res.headers.get('x-request-id'), path).toBe('req-42');
      expect(res.headers.get('traceparent'), path).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/);
    }
  });

  it('continues the caller trace with a new span, and the trace id reaches the job events', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const incoming = `00-${traceId}-00f067aa0ba902b7-01`;
    const events: MailroomEvent[] = [];
    const subscription = await t.server.app.subscribe(
      ['event:job_submitted', 'event:job_completed'],
      undefined,
      (d) => {
        if (d.kind === 'event') events.push(d.event);
      },
    );
    const res = await call(t.base, 'POST', '/api/v1/jobs', { type: 'echo' }, { traceparent: incoming });
    const echoed = res.headers.get('traceparent')!;
    expect(echoed).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    expect(echoed).not.toBe(incoming);
    await waitForJob(t.base, res.body.id, terminal);
    await t.server.app.system.idle();
    subscription.unsubscribe();
    const mine = events.filter((e) => 'job_id' in e && e.job_id === res.body.id);
    expect(mine.map((e) => e.type)).toEqual(['job_submitted', 'job_completed']);
    expect(mine.every((e) => e.trace_id === traceId)).toBe(true);
  });

  it('starts a new trace for a missing or invalid traceparent and carries it into events', async () => {
    const invalid = [
      undefined,
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra',
    ];
    for (const header of invalid) {
      const res = await call(
        t.base,
        'POST',
        '/api/v1/jobs',
        { type: 'echo' },
        header ? { traceparent: header } : {},
      );
      const trace = res.headers.get('traceparent')!.split('-')[1]!;
      expect(trace, String(header)).not.toBe('4bf92f3577b34da6a3ce929d0e0e4736');
      expect(trace).toMatch(/^[0-9a-f]{32}$/);
    }
    // A future version may append fields; its trace is still honoured.
    const future = await call(t.base, 'GET', '/api/v1/stats', undefined, {
      traceparent: 'cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-ever',
    });
    expect(future.headers.get('traceparent')).toContain('4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it('passes the trace to workflows and their step jobs', async () => {
    const traceId = 'aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbb';
    const events: MailroomEvent[] = [];
    const res = await call(
      t.base,
      'POST',
      '/api/v1/workflows',
      { name: 'traced', steps: [{ type: 'echo' }] },
      { traceparent: `00-${traceId}-1111111111111111-00` },
    );
    const subscription = await t.server.app.subscribe([`workflow:${res.body.id}`], '', (d) => {
      if (d.kind === 'event') events.push(d.event);
    });
    await t.server.app.system.idle();
    await new Promise((r) => setTimeout(r, 50));
    subscription.unsubscribe();
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.trace_id === traceId)).toBe(true);
  });
});

describe('routing', () => {
  it('404 NOT_FOUND for unknown paths, 405 with Allow for wrong methods, trailing slashes ignored', async () => {
    const unknown = await call(t.base, 'GET', '/api/v1/nope');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('NOT_FOUND');
    const wrong = await call(t.base, 'DELETE', '/api/v1/jobs');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')?.split(', ').sort()).toEqual(['GET', 'POST']);
    expect((await call(t.base, 'GET', '/api/v1/stats/')).status).toBe(200);
    expect((await call(t.base, 'GET', '/api/v1/jobs/a/b/c/d')).status).toBe(404);
  });
});
