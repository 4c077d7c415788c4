/**
 * Garbage on both WebSocket endpoints: random bytes as text and binary frames, frames past the size
 * limit, odd JSON, and connections dropped mid-handshake. Every readable frame gets an error frame;
 * nothing crashes the server, and afterwards both protocols and HTTP still work.
 */
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { call, startTestServer, type TestServer } from '../http/support.js';
import { Conversation, wsUrl } from './support.js';

let server: TestServer | undefined;

afterEach(async () => {
  await server?.stop();
  server = undefined;
});

const ODD_FRAMES = [
  '',
  'null',
  '"op"',
  '{"op":null}',
  '{"op":"subscribe","topics":"*"}',
  '{"op":"subscribe","topics":[1,2]}',
  '{"op":"subscribe","topics":["*"],"since":42}',
  '{"op":"submit_job","id":{"x":1},"job":{}}',
  '{"op":"submit_job","id":1}',
  '{"op":"cancel","id":1}',
  '{"op":"register","name":"","types":[]}',
  '{"op":"complete","job_id":"x"}',
  '{"op":"__proto__","constructor":{"prototype":{"polluted":true}}}',
  `{"op":"subscribe","id":"${'x'.repeat(500)}","topics":["*"]}`,
  '[{"op":"ping"}]',
  '\u0000\u0001\u0002',
];

describe('WebSocket garbage', () => {
  it('answers every frame of a garbage corpus with an error and stays up', async () => {
    server = await startTestServer({ file: { max_body_bytes: 64 * 1024 } });
    for (const path of ['/ws', '/ws/worker']) {
      for (const protocols of [[], ['mailroom.msgpack']]) {
        const c = await Conversation.open(wsUrl(server.base, path), { protocols });
        const samples = fc.sample(fc.oneof(fc.string(), fc.uint8Array({ maxLength: 300 })), {
          numRuns: 60,
          seed: 7,
        });
        let sent = 0;
        for (const frame of ODD_FRAMES) {
          c.sendRaw(frame);
          sent++;
        }
        for (const sample of samples) {
          if (typeof sample === 'string') c.sendRaw(sample);
          else c.sendRaw(Buffer.from(sample), true);
          sent++;
        }
        c.send({ op: 'ping', id: 'last' });
        await c.next((f) => f.op === 'pong');
        // Every garbage frame got exactly one answer before the pong, and each was an error.
        const answers = c.frames.slice(0, -1);
        expect(answers).toHaveLength(sent);
        expect(answers.filter((f) => !(f.op === 'error' && typeof f.error.code === 'string'))).toEqual([]);
        expect(c.closed).toBeNull();
        c.close();
      }
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();

    // Nested past the body limit: refused like an HTTP body, not walked until the stack overflows.
    const nested = await Conversation.open(wsUrl(server.base, '/ws'));
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    nested.sendRaw(`{"op":"submit_job","id":"deep","job":{"type":"echo","input":${deep}}}`);
    const refused = await nested.next();
    expect(refused).toMatchObject({ op: 'error', error: { code: 'VALIDATION_FAILED' } });
    expect(await nested.request({ op: 'ping', id: 'after' })).toEqual({ op: 'pong', id: 'after' });
    nested.close();

    // Past the frame limit: uWS drops that one socket (without a close frame: 1006), nothing else.
    const big = await Conversation.open(wsUrl(server.base, '/ws'));
    big.sendRaw('x'.repeat(100 * 1024));
    expect([1006, 1009]).toContain((await big.whenClosed()).code);

    // Handshakes cut short, and raw bytes that are no WebSocket at all.
    const { port } = new URL(server.base);
    for (const raw of [
      'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
      'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n\x81\xff',
      '\x16\x03\x01\x02\x00\x01',
    ]) {
      await new Promise<void>((resolve) => {
        const socket = connect(Number(port), '127.0.0.1', () => {
          socket.write(raw, 'latin1');
          setTimeout(() => {
            socket.destroy();
            resolve();
          }, 50);
        });
        socket.on('error', () => resolve());
      });
    }

    const after = await Conversation.open(wsUrl(server.base, '/ws'));
    const ack = await after.request({
      op: 'submit_job',
      id: 1,
      job: { type: 'echo', input: { still: 'up' } },
    });
    expect(ack.op).toBe('ack');
    after.close();
    expect((await call(server.base, 'GET', `/api/v1/jobs/${ack.job.id}`)).status).toBe(200);
  });
});
