/**
 * The BullMQ peer for `--compare bullmq`: the same service Mailroom offers for the compared
 * scenarios, built the way a BullMQ user would build it, in its own process like the Mailroom
 * server. Fastify (logger off) takes `POST /jobs {type, input}` and answers 202 after
 * `queue.add` (which, like Mailroom's 202, returns once the job is in Redis); a Worker in the same
 * process completes `echo` jobs by returning their data. Settings follow BullMQ's guidance:
 * ioredis with maxRetriesPerRequest: null for the worker, one connection per Queue/Worker,
 * completed jobs kept (as Mailroom keeps them for its retention), 3 attempts (Mailroom's default).
 * Prints one JSON line `{"peer":"bullmq","url":…}` when listening; SIGTERM closes everything.
 * Bench-only: BullMQ and Fastify are dev dependencies.
 */
import { parseArgs } from 'node:util';
import { Queue, Worker } from 'bullmq';
import Fastify from 'fastify';
import { Redis } from 'ioredis';

const { values } = parseArgs({
  options: {
    'redis-url': { type: 'string' },
    prefix: { type: 'string', default: 'bench-bullmq' },
    queue: { type: 'string', default: 'jobs' },
    concurrency: { type: 'string', default: '256' },
    'no-worker': { type: 'boolean', default: false },
  },
});
const redisUrl = values['redis-url'];
if (!redisUrl) {
  console.error('bullmq-server: --redis-url is required');
  process.exit(2);
}

const connection = (): Redis => new Redis(redisUrl, { maxRetriesPerRequest: null });
const prefix = values.prefix;
const queue = new Queue(values.queue, {
  connection: connection(),
  prefix,
  defaultJobOptions: { attempts: 3, backoff: { type: 'exponential', delay: 1_000 } },
});
const worker = values['no-worker']
  ? undefined
  : new Worker(values.queue, async (job) => job.data, {
      connection: connection(),
      prefix,
      concurrency: Number(values.concurrency),
    });

const app = Fastify({ logger: false, bodyLimit: 8 * 1024 * 1024 });

app.post('/jobs', async (request, reply) => {
  const body = request.body as { type?: unknown; input?: unknown } | null;
  if (!body || typeof body.type !== 'string') {
    reply.code(400);
    return { error: { code: 'VALIDATION_FAILED', message: 'type is required' } };
  }
  const job = await queue.add(body.type, body.input ?? null);
  reply.code(202);
  return { id: job.id, type: body.type, status: 'waiting' };
});

app.get('/counts', async () =>
  queue.getJobCounts('completed', 'failed', 'active', 'wait', 'delayed', 'prioritized'),
);
app.get('/health', async () => ({ status: 'ok' }));

const url = await app.listen({ host: '127.0.0.1', port: 0 });
console.log(JSON.stringify({ peer: 'bullmq', url, pid: process.pid }));

let stopping = false;
const stop = async () => {
  if (stopping) process.exit(1);
  stopping = true;
  await app.close();
  await worker?.close();
  await queue.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
