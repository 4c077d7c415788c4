/**
 * Server-Sent Events on GET /api/v1/events over real sockets: events of jobs submitted through the
 * HTTP API arrive as `id`/`event`/`data` frames; a reconnect with Last-Event-ID loses and repeats
 * nothing; unusable cursors get `reset`; auth, validation, heartbeats, slow clients (buffered and
 * resumed, or closed past the limit) and shutdown.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DirectServer, SseReader, startDirectServer } from './direct.js';
import { call, startTestServer, type TestServer, terminal, waitForJob } from './support.js';

const KEY = 'sse-key-1';

async function submitEcho(
  base: string,
  input: unknown,
  headers: Record<string, string> = {},
): Promise<string> {
  const res = await call(base, 'POST', '/api/v1/jobs', { type: 'echo', input }, headers);
  expect(res.status).toBe(202);
  return res.body.id as string;
}

describe('event stream', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.stop();
  });

  it('sends the events of jobs submitted over HTTP as id/event/data frames', async () => {
    const sse = await SseReader.open(`${t.base}/api/v1/events?topics=*`);
    expect(sse.response.status).toBe(200);
    expect(sse.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(sse.response.headers.get('cache-control')).toContain('no-cache');
    await sse.until(() => sse.events('subscribed').length === 1, 'subscribed');
    const subscribed = sse.frames.find((f) => f.event === 'subscribed')!;
    expect(subscribed.id).toBe(sse.events('subscribed')[0].cursor);
    expect(sse.frames[0]!.retry).toBe('2000');

    const id = await submitEcho(t.base, { hello: 'sse' });
    await sse.until(() => sse.events('job_completed').some((e) => e.job_id === id), 'job_completed');
    const mine = sse.frames.filter((f) => f.data && JSON.parse(f.data).job_id === id);
    expect(mine.map((f) => f.event)).toEqual(['job_submitted', 'job_started', 'job_completed']);
    for (const frame of mine) {
      const event = JSON.parse(frame.data!);
      expect(event.type).toBe(frame.event);
      // The frame id is the event's cursor: the log's epoch and the event's seq.
      expect(frame.id).toBe(`${subscribed.id!.slice(0, subscribed.id!.lastIndexOf('.'))}.${event.seq}`);
    }
    expect(sse.events('job_completed').find((e) => e.job_id === id).output).toEqual({ hello: 'sse' });
    sse.close();
  });

  it('follows only the topics asked for', async () => {
    const first = await submitEcho(t.base, 1);
    const sse = await SseReader.open(`${t.base}/api/v1/events?topics=job:${first},event:job_failed`);
    await sse.until(() => sse.events('subscribed').length === 1, 'subscribed');
    const other = await submitEcho(t.base, 2);
    const failing = await call(t.base, 'POST', '/api/v1/jobs', { type: 'fail', input: { retryable: false } });
    await waitForJob(t.base, other, terminal);
    await waitForJob(t.base, failing.body.id, terminal);
    await sse.until(() => sse.events('job_failed').length === 1, 'job_failed');
    const jobIds = new Set(sse.events().flatMap((e) => (e.job_id ? [e.job_id] : [])));
    expect(jobIds.has(other)).toBe(false);
    expect(sse.events('job_failed')[0].job_id).toBe(failing.body.id);
    sse.close();
  });

  it('resumes with Last-Event-ID after a disconnect: nothing lost, nothing repeated', async () => {
    const sse = await SseReader.open(`${t.base}/api/v1/events?topics=type:echo`);
    await sse.until(() => sse.events('subscribed').length === 1, 'subscribed');
    const before = await Promise.all([1, 2, 3, 4].map((n) => submitEcho(t.base, { n })));
    await sse.until(() => sse.events('job_completed').length >= 2, 'two completions');
    // Gone mid-stream: what was not yet read is lost with the connection.
    sse.close();
    const lastSeen = sse.lastEventId!;
    const seenFirst = sse.events().filter((e) => e.seq !== undefined && e.type !== undefined);

    // While away: more jobs come and go.
    const during = await Promise.all([5, 6, 7].map((n) => submitEcho(t.base, { n })));
    for (const id of [...before, ...during]) await waitForJob(t.base, id, terminal);

    const again = await SseReader.open(`${t.base}/api/v1/events?topics=type:echo`, {
      'last-event-id': lastSeen,
    });
    const all = [...before, ...during];
    const done = () =>
      all.every((id) =>
        [...seenFirst, ...again.events()].some((e) => e.type === 'job_completed' && e.job_id === id),
      );
    await again.until(done, 'every completion after resuming');
    const events = [...seenFirst, ...again.events().filter((e) => e.type?.startsWith('job_'))];
    const seqs = events.map((e) => e.seq as number);
    expect(new Set(seqs).size).toBe(seqs.length);
    for (const id of all) {
      expect(events.filter((e) => e.job_id === id).map((e) => e.type)).toEqual([
        'job_submitted',
        'job_started',
        'job_completed',
      ]);
    }
    // `subscribed` comes first and names the position the replay starts from.
    expect(again.frames[1]).toMatchObject({ event: 'subscribed', id: lastSeen });
    again.close();
  });

  it('takes the cursor from ?last_event_id= or ?since= when the client cannot send headers', async () => {
    const sse = await SseReader.open(`${t.base}/api/v1/events?topics=type:echo`);
    await sse.until(() => sse.events('subscribed').length === 1, 'subscribed');
    const start = sse.events('subscribed')[0].cursor as string;
    sse.close();
    const id = await submitEcho(t.base, 'q');
    await waitForJob(t.base, id, terminal);
    for (const name of ['last_event_id', 'since']) {
      const resumed = await SseReader.open(
        `${t.base}/api/v1/events?topics=job:${id}&${name}=${encodeURIComponent(start)}`,
      );
      await resumed.until(() => resumed.events('job_completed').length === 1, `replay via ${name}`);
      expect(
        resumed
          .events()
          .filter((e) => e.job_id === id)
          .map((e) => e.type),
      ).toEqual(['job_submitted', 'job_started', 'job_completed']);
      resumed.close();
    }
  });

  it('answers a cursor of another epoch, or past the log, with a reset frame per topic', async () => {
    for (const cursor of ['someotherepoch.3', 'garbage', `${'x'.repeat(10)}.99999999`]) {
      const sse = await SseReader.open(`${t.base}/api/v1/events?topics=job:abc,type:echo`, {
        'last-event-id': cursor,
      });
      await sse.until(() => sse.events('subscribed').length === 1, 'subscribed');
      expect(
        sse
          .events('reset')
          .map((r) => r.topic)
          .sort(),
      ).toEqual(['job:abc', 'type:echo']);
      // The reset client starts from now: `subscribed` carries the current cursor as its id.
      const subscribed = sse.frames.find((f) => f.event === 'subscribed')!;
      expect(subscribed.id).toBe(sse.events('subscribed')[0].cursor);
      expect(sse.frames.findIndex((f) => f.event === 'reset')).toBeGreaterThan(
        sse.frames.indexOf(subscribed),
      );
      sse.close();
    }
  });

  it('refuses bad topics with 400 and other methods with 405', async () => {
    for (const query of ['', '?topics=', '?topics=nope', '?topics=job:', '?topics=*,,job:x']) {
      const res = await call(t.base, 'GET', `/api/v1/events${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
    }
    // With a trailing slash it is the same stream.
    expect((await call(t.base, 'GET', '/api/v1/events/?topics=nope')).status).toBe(400);
    const slash = await SseReader.open(`${t.base}/api/v1/events/?topics=*`);
    await slash.until(() => slash.events('subscribed').length === 1, 'subscribed');
    slash.close();
    const post = await call(t.base, 'POST', '/api/v1/events', {});
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
  });

  it('keeps serving after clients disconnect mid-stream', async () => {
    const readers = await Promise.all(
      [1, 2, 3].map(() => SseReader.open(`${t.base}/api/v1/events?topics=*`)),
    );
    await Promise.all(readers.map((r) => r.until(() => r.events('subscribed').length === 1, 'subscribed')));
    const ids = await Promise.all([1, 2, 3, 4, 5].map((n) => submitEcho(t.base, n)));
    for (const r of readers) r.close();
    for (const id of ids) await waitForJob(t.base, id, terminal);
    expect((await call(t.base, 'GET', '/health')).status).toBe(200);
    const later = await submitEcho(t.base, 'after');
    expect((await waitForJob(t.base, later, terminal)).status).toBe('completed');
    const sse = await SseReader.open(`${t.base}/api/v1/events?topics=job:${later}&since=x.0`);
    await sse.until(() => sse.events('subscribed').length === 1, 'a new stream');
    sse.close();
  });
});

describe('event stream with API_KEYS', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ apiKeys: KEY });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('answers 401 without a key and opens with x-api-key, Bearer or ?key=', async () => {
    const denied = await call(t.base, 'GET', '/api/v1/events?topics=*');
    expect(denied.status).toBe(401);
    expect(denied.body.error.code).toBe('UNAUTHORIZED');
    expect((await call(t.base, 'GET', '/api/v1/events?topics=*&key=wrong')).status).toBe(401);
    for (const [query, headers] of [
      ['', { 'x-api-key': KEY }],
      ['', { authorization: `Bearer ${KEY}` }],
      [`&key=${KEY}`, {}],
    ] as const) {
      const sse = await SseReader.open(`${t.base}/api/v1/events?topics=*${query}`, headers);
      expect(sse.response.status).toBe(200);
      await sse.until(() => sse.events('subscribed').length === 1, 'subscribed');
      sse.close();
    }
    // ?key= is for event streams only: other routes still want a header.
    expect((await call(t.base, 'GET', `/api/v1/stats?key=${KEY}`)).status).toBe(401);
  });
});

describe('event stream limits and shutdown', () => {
  let d: DirectServer;
  beforeAll(async () => {
    d = await startDirectServer({ events: { heartbeatMs: 50, maxBufferedBytes: 256 * 1024 } });
  });
  afterAll(async () => {
    await d.stop();
  });

  it('sends `: ping` comments while idle', async () => {
    const sse = await SseReader.open(`${d.base}/api/v1/events?topics=job:idle`);
    await sse.until(() => sse.comments >= 3, 'three pings', 2_000);
    sse.close();
  });

  it('closes a client that stops reading past the buffer limit; it resumes from its last event', async () => {
    const { port } = new URL(d.base);
    const socket = connect(Number(port), '127.0.0.1');
    socket.write('GET /api/v1/events?topics=type:echo HTTP/1.1\r\nHost: x\r\n\r\n');
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString('utf8');
    });
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    await until(() => text.includes('event: subscribed'), 'subscribed');
    socket.pause();
    // Far more than the socket buffers and the 256 KiB limit hold.
    const big = 'x'.repeat(256 * 1024);
    const ids: string[] = [];
    for (let i = 0; i < 48; i++) ids.push(await submitEcho(d.base, { i, big }));
    for (const id of ids) await waitForJob(d.base, id, terminal);
    socket.resume();
    await closed;
    // What arrived is whole frames up to a point: take the last complete event's id, as EventSource would.
    const body = text.slice(text.indexOf('\r\n\r\n') + 4);
    const frames = dechunk(body).split('\n\n').slice(0, -1);
    const withId = frames.filter((f) => f.startsWith('id: ') && f.includes('\nevent: job_'));
    const completedBefore = withId.filter((f) => f.includes('event: job_completed')).length;
    expect(completedBefore).toBeLessThan(ids.length);
    const lastId = withId[withId.length - 1]!.split('\n')[0]!.slice(4);

    const resumed = await SseReader.open(`${d.base}/api/v1/events?topics=type:echo`, {
      'last-event-id': lastId,
    });
    await resumed.until(
      () => resumed.events('job_completed').length === ids.length - completedBefore,
      'the rest of the completions',
    );
    expect(resumed.events('job_completed').length).toBe(ids.length - completedBefore);
    resumed.close();
    expect((await d.app.stats()).jobs.by_status.completed).toBeGreaterThanOrEqual(ids.length);
  }, 30_000);

  it('ends open streams cleanly when the server closes', async () => {
    const own = await startDirectServer();
    const sse = await SseReader.open(`${own.base}/api/v1/events?topics=*`);
    await sse.until(() => sse.events('subscribed').length === 1, 'subscribed');
    await own.stop();
    await sse.until(() => sse.ended, 'the end of the stream');
    // A clean end of the chunked body, not a cut connection.
    expect(sse.failed).toBeNull();
  });
});

describe('event stream backpressure below the limit', () => {
  let d: DirectServer;
  beforeAll(async () => {
    d = await startDirectServer({ events: { maxBufferedBytes: 64 * 1024 * 1024 } });
  });
  afterAll(async () => {
    await d.stop();
  });

  it('holds frames for a slow reader and delivers all of them in order when it catches up', async () => {
    const { port } = new URL(d.base);
    const socket = connect(Number(port), '127.0.0.1');
    socket.write('GET /api/v1/events?topics=type:echo HTTP/1.1\r\nHost: x\r\n\r\n');
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString('utf8');
    });
    await until(() => text.includes('event: subscribed'), 'subscribed');
    socket.pause();
    const big = 'y'.repeat(200 * 1024);
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push(await submitEcho(d.base, { i, big }));
    for (const id of ids) await waitForJob(d.base, id, terminal);
    socket.resume();
    await until(
      () => (text.match(/event: job_completed/g) ?? []).length === ids.length,
      'every completion',
      15_000,
    );
    const frames = dechunk(text.slice(text.indexOf('\r\n\r\n') + 4)).split('\n\n');
    const seqs = frames
      .filter((f) => f.includes('\nevent: job_'))
      .map((f) => Number(f.split('\n')[0]!.split('.').pop()));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(socket.destroyed).toBe(false);
    socket.destroy();
  }, 30_000);
});

async function until(ready: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The payload of an HTTP/1.1 chunked body (complete chunks only). */
function dechunk(body: string): string {
  const buffer = Buffer.from(body, 'utf8');
  let out = '';
  let at = 0;
  for (;;) {
    const lineEnd = buffer.indexOf('\r\n', at);
    if (lineEnd < 0) break;
    const size = Number.parseInt(buffer.subarray(at, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    const start = lineEnd + 2;
    if (start + size > buffer.length) break;
    out += buffer.subarray(start, start + size).toString('utf8');
    at = start + size + 2;
  }
  return out;
}
