/**
 * `/ws` conversations (SPEC §5) on a real server with the `ws` package as an independent client.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Body, call, startTestServer, type TestServer, waitForJob } from '../http/support.js';
import { Conversation, eventually, wsUrl } from './support.js';

let server: TestServer | undefined;
const conversations: Conversation[] = [];

afterEach(async () => {
  for (const c of conversations.splice(0)) c.terminate();
  await server?.stop();
  server = undefined;
});

async function open(
  path = '/ws',
  options: Parameters<typeof Conversation.open>[1] = {},
): Promise<Conversation> {
  const c = await Conversation.open(wsUrl(server!.base, path), options);
  conversations.push(c);
  return c;
}

const seqOf = (frame: Body): number => frame.event.seq;

describe('/ws subscribe and submit', () => {
  it('acks a submit only with the stored job and streams its events on the subscribed topic', async () => {
    server = await startTestServer();
    const c = await open();
    const subscribed = await c.request({ op: 'subscribe', id: 's1', topics: ['type:echo'] });
    expect(subscribed).toMatchObject({ op: 'subscribed', id: 's1', cursor: expect.any(String) });

    const ack = await c.request({ op: 'submit_job', id: 7, job: { type: 'echo', input: { hello: 'ws' } } });
    expect(ack).toMatchObject({ op: 'ack', id: 7, job: { type: 'echo', input: { hello: 'ws' } } });
    const stored = await call(server.base, 'GET', `/api/v1/jobs/${ack.job.id}`);
    expect(stored.status).toBe(200);

    const done = await c.next((f) => f.op === 'event' && f.event.type === 'job_completed');
    expect(done.event).toMatchObject({ job_id: ack.job.id, output: { hello: 'ws' } });
    // Each request over the socket starts a trace of its own, carried by every event it causes.
    expect(done.event.trace_id).toMatch(/^[0-9a-f]{32}$/);
    const types = c.events().map((f) => f.event.type);
    expect(types.slice(0, 1)).toEqual(['job_submitted']);
    expect(types.filter((t) => t === 'job_completed')).toHaveLength(1);
    // Cursors are ordered positions: each event's seq is above the one before.
    const seqs = c.events().map(seqOf);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
  });

  it('acks workflows and cancels, and answers errors with the request id', async () => {
    server = await startTestServer();
    const c = await open();
    const wf = await c.request({
      op: 'submit_workflow',
      id: 'w',
      workflow: {
        name: 'pair',
        steps: [
          { name: 'a', type: 'sleep', input: { ms: 5_000 } },
          { type: 'echo', depends_on: ['a'] },
        ],
      },
    });
    expect(wf).toMatchObject({ op: 'ack', id: 'w', workflow: { name: 'pair', total_steps: 2 } });
    const cancelled = await c.request({ op: 'cancel', id: 'c', workflow_id: wf.workflow.id });
    expect(cancelled).toMatchObject({
      op: 'ack',
      id: 'c',
      workflow: { id: wf.workflow.id, status: 'cancelled' },
    });

    const bad = await c.request({ op: 'submit_job', id: 'bad', job: { type: 'nope' } });
    expect(bad).toMatchObject({ op: 'error', id: 'bad', error: { code: 'VALIDATION_FAILED' } });
    const missing = await c.request({ op: 'cancel', id: 'm', job_id: 'no-such-job' });
    expect(missing).toMatchObject({ op: 'error', id: 'm', error: { code: 'NOT_FOUND' } });
  });

  it('answers invalid frames with an error frame and keeps the socket open', async () => {
    server = await startTestServer();
    const c = await open();
    c.sendRaw('{not json');
    expect(await c.next()).toMatchObject({ op: 'error', error: { code: 'INVALID_FRAME' } });
    c.sendRaw(JSON.stringify({ op: 'launch', id: 1 }));
    expect(await c.next()).toMatchObject({ op: 'error', id: 1, error: { code: 'INVALID_FRAME' } });
    c.sendRaw(JSON.stringify([1, 2, 3]));
    expect(await c.next()).toMatchObject({ op: 'error', error: { code: 'INVALID_FRAME' } });
    c.sendRaw(Buffer.from([0x93, 1, 2, 3]), true);
    expect(await c.next()).toMatchObject({ op: 'error', error: { code: 'INVALID_FRAME' } });
    c.send({ op: 'subscribe', id: 2, topics: [] });
    expect(await c.next()).toMatchObject({ op: 'error', id: 2, error: { code: 'VALIDATION_FAILED' } });
    c.send({ op: 'subscribe', id: 3, topics: ['jobs:x', '*'] });
    const topicError = await c.next();
    expect(topicError).toMatchObject({ op: 'error', id: 3, error: { code: 'VALIDATION_FAILED' } });
    expect(topicError.error.details[0].path).toBe('topics.0');
    c.send({ op: 'cancel', id: 4, job_id: 'a', workflow_id: 'b' });
    expect(await c.next()).toMatchObject({ op: 'error', id: 4, error: { code: 'VALIDATION_FAILED' } });
    expect(await c.request({ op: 'ping', id: 'p' })).toEqual({ op: 'pong', id: 'p' });
    expect(c.closed).toBeNull();
  });

  it('speaks MessagePack on the mailroom.msgpack subprotocol', async () => {
    server = await startTestServer();
    const c = await open('/ws', { protocols: ['mailroom.msgpack'] });
    expect(c.protocol).toBe('mailroom.msgpack');
    await c.request({ op: 'subscribe', id: 1, topics: ['event:job_completed'] });
    const ack = await c.request({
      op: 'submit_job',
      id: 2,
      job: { type: 'echo', input: { bytes: 'packed' } },
    });
    expect(ack.job.input).toEqual({ bytes: 'packed' });
    const done = await c.next((f) => f.op === 'event');
    expect(done.event).toMatchObject({ type: 'job_completed', job_id: ack.job.id });
  });

  it('stops sending a topic after unsubscribe', async () => {
    server = await startTestServer();
    const c = await open();
    await c.request({ op: 'subscribe', id: 1, topics: ['event:job_submitted'] });
    await c.request({ op: 'submit_job', id: 2, job: { type: 'echo' } });
    await c.next((f) => f.op === 'event');
    expect(await c.request({ op: 'unsubscribe', id: 3, topics: ['event:job_submitted'] })).toMatchObject({
      op: 'unsubscribed',
    });
    await c.request({ op: 'submit_job', id: 4, job: { type: 'echo' } });
    expect(await c.request({ op: 'ping', id: 5 })).toMatchObject({ op: 'pong' });
    expect(c.events()).toHaveLength(1);
  });

  it('sends an event matching two of its subscriptions once', async () => {
    server = await startTestServer();
    const c = await open();
    await c.request({ op: 'subscribe', id: 1, topics: ['*'] });
    await c.request({ op: 'subscribe', id: 2, topics: ['type:echo'] });
    const ack = await c.request({ op: 'submit_job', id: 3, job: { type: 'echo' } });
    await c.next((f) => f.op === 'event' && f.event.type === 'job_completed');
    await waitForJob(server.base, ack.job.id, (job) => job.status === 'completed');
    const seqs = c.events().map(seqOf);
    expect(new Set(seqs).size).toBe(seqs.length);
  });
});

describe('/ws resumption', () => {
  it('replays every event after the cursor, then live ones, with no gap and no duplicate', async () => {
    server = await startTestServer();
    const first = await open();
    const { cursor: start } = await first.request({ op: 'subscribe', id: 1, topics: ['*'] });
    for (let i = 0; i < 5; i++) await first.request({ op: 'submit_job', id: `a${i}`, job: { type: 'echo' } });
    await first.next((f) => f.op === 'event' && f.event.type === 'job_completed');
    const seen = first.events();
    const resumeAt = seen[2].cursor;
    first.terminate();

    // While nobody listens: more jobs, over HTTP.
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await call(server.base, 'POST', '/api/v1/jobs', { type: 'echo' })).body.id);
    for (const id of ids) await waitForJob(server.base, id, (job) => job.status === 'completed');

    const second = await open();
    const resumed = await second.request({ op: 'subscribe', id: 1, topics: ['*'], since: resumeAt });
    expect(resumed.cursor).toBe(resumeAt);
    const live = await second.request({ op: 'submit_job', id: 'live', job: { type: 'echo' } });
    await second.next(
      (f) => f.op === 'event' && f.event.type === 'job_completed' && f.event.job_id === live.job.id,
    );

    const seqs = second.events().map(seqOf);
    const firstSeq = seen[3].event.seq;
    // Contiguous from right after the cursor: every event of the log, once, in order.
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => firstSeq + i));
    expect(seqs[0]).toBe(Number(resumeAt.split('.').pop()) + 1);
    expect(start).toMatch(/\.\d+$/);
  });

  it('answers a cursor from another epoch with reset for each topic', async () => {
    server = await startTestServer();
    const c = await open();
    const reply = await c.request({
      op: 'subscribe',
      id: 1,
      topics: ['*', 'type:echo'],
      since: 'elsewhere.12',
    });
    expect(reply.op).toBe('subscribed');
    await c.request({ op: 'ping', id: 2 });
    const resets = c.frames.filter((f) => f.op === 'reset').map((f) => f.topic);
    expect(resets.sort()).toEqual(['*', 'type:echo']);
  });

  it('keeps only `event_log_max_len` events: an older cursor gets reset', async () => {
    server = await startTestServer({ file: { event_log_max_len: 4 } });
    const c = await open();
    const { cursor } = await c.request({ op: 'subscribe', id: 1, topics: ['*'] });
    // Three events per echo job: two jobs push the subscribe cursor out of a log of four.
    for (const id of ['a', 'b']) {
      const ack = await c.request({ op: 'submit_job', id, job: { type: 'echo' } });
      await c.next(
        (f) => f.op === 'event' && f.event.type === 'job_completed' && f.event.job_id === ack.job.id,
      );
    }
    const late = await open();
    await late.request({ op: 'subscribe', id: 1, topics: ['*'], since: cursor });
    await late.request({ op: 'ping', id: 2 });
    expect(late.frames.filter((f) => f.op === 'reset').map((f) => f.topic)).toEqual(['*']);
    expect(late.events()).toEqual([]);
  });

  it('closes a slow consumer with 1008; it resumes from its last cursor without a gap', async () => {
    server = await startTestServer({ file: { websocket: { max_buffered_bytes: 16 * 1024 } } });
    const slow = await open();
    const { cursor } = await slow.request({ op: 'subscribe', id: 1, topics: ['*'] });
    // Stop reading: the server's queue for this socket fills up.
    (slow.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    const big = 'x'.repeat(20_000);
    const jobs = Array.from({ length: 200 }, () => ({ type: 'echo', input: { big } }));
    for (let i = 0; i < 3; i++) await call(server.base, 'POST', '/api/v1/jobs/batch', { jobs });
    (slow.socket as unknown as { _socket: { resume(): void } })._socket.resume();
    const closed = await slow.whenClosed(10_000);
    expect(closed.code).toBe(1008);
    expect(closed.reason).toContain('SLOW_CONSUMER');
    const metrics = await (await fetch(`${server.base}/metrics`)).text();
    expect(metrics).toContain('mailroom_ws_closed_total{endpoint="client",cause="slow_consumer"} 1');

    const received = slow.events();
    expect(received.length).toBeLessThan(1_800);
    const last = received.length > 0 ? received[received.length - 1].cursor : cursor;
    await eventually(async () => {
      const stats = (await call(server!.base, 'GET', '/api/v1/stats')).body;
      return stats.jobs.by_status.completed === 600 ? true : undefined;
    }, 20_000);
    const end = await open();
    const { cursor: endCursor } = await end.request({ op: 'subscribe', id: 1, topics: ['*'] });
    const endSeq = Number(endCursor.split('.').pop());

    // The resumed socket asks for far more history than its buffer limit: it is paced, not closed.
    const again = await open();
    await again.request({ op: 'subscribe', id: 1, topics: ['*'], since: last });
    await again.next((f) => f.op === 'event' && f.event.seq === endSeq, 20_000);
    const seqs = [...received.map(seqOf), ...again.events().map(seqOf)];
    const first = seqs[0] as number;
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => first + i));
    expect(seqs.at(-1)).toBe(endSeq);
    expect(again.closed).toBeNull();
  }, 60_000);
});

describe('/ws auth', () => {
  it('refuses an upgrade without a key and accepts the key as header, query or subprotocol', async () => {
    server = await startTestServer({ apiKeys: 'k1,k2' });
    const url = wsUrl(server.base, '/ws');
    await expect(Conversation.open(url)).rejects.toMatchObject({ status: 401 });
    await expect(Conversation.open(`${url}?key=wrong`)).rejects.toMatchObject({ status: 401 });
    await expect(Conversation.open(wsUrl(server.base, '/ws/worker'))).rejects.toMatchObject({ status: 401 });
    for (const c of [
      await open('/ws', { headers: { 'x-api-key': 'k1' } }),
      await open('/ws', { headers: { authorization: 'Bearer k2' } }),
      await open('/ws?key=k1'),
      await open('/ws', { protocols: ['key.k2'] }),
      await open('/ws', { protocols: ['mailroom.msgpack', 'key.k1'] }),
    ]) {
      expect(await c.request({ op: 'ping', id: 1 })).toMatchObject({ op: 'pong' });
    }
  });
});
