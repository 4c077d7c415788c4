/**
 * e2e-ws: the whole path of a remote job. A client submits over /ws; the server assigns the job
 * to a remote worker on /ws/worker, which completes it with its input; the client hears
 * `job_completed` on its subscription. Latency = submit → completion event. Submitter, worker and
 * listener all live in this process, the server in its own.
 * With --compare bullmq: queue.add from this process, a BullMQ Worker in this process (the remote
 * worker's place) and QueueEvents for the completion: BullMQ's own way of doing the same thing,
 * with Redis where Mailroom's server is.
 */

import { WorkerClient, type WsClient } from '../../src/client/index.js';
import type { MailroomEvent } from '../../src/schemas/events.js';
import { Completions, withTimeout } from '../harness/completions.js';
import type { Outcome } from '../harness/load.js';
import type { SystemResult } from '../harness/result.js';
import { loadPlan, measure } from '../harness/run.js';
import { openNativeBullmq } from '../peers/bullmq-native.js';
import { mailroomTarget, type RunRedis, runRedis, type Scenario, type ScenarioContext } from './common.js';
import { describePlan, settings } from './submit-http.js';
import { closeAll, openWsClients } from './ws-common.js';

const DEFAULTS = { durationMs: 10_000, connections: 32 };
const TIMEOUT_MS = 30_000;
/** A remote type in the default config (gpu 8 GB): the worker below registers for it. */
const REMOTE_TYPE = 'text-to-image';

async function runMailroom(
  ctx: ScenarioContext,
  redis: RunRedis | undefined,
  data: string,
): Promise<SystemResult> {
  const { args } = ctx;
  const plan = loadPlan(args, DEFAULTS);
  const target = await mailroomTarget(args, redis);
  const completions = new Completions();
  let clients: WsClient[] = [];
  let worker: WorkerClient | undefined;
  try {
    worker = await WorkerClient.start({
      url: target.url,
      apiKey: args.apiKey,
      name: 'bench-worker',
      types: [REMOTE_TYPE],
      capabilities: { gpu_memory_gb: 24 },
      slots: args.bullmqConcurrency,
      handler: async (job) => ({ output: job.input }),
    });
    clients = await openWsClients(target.url, plan.connections + 1, args.apiKey);
    await clients[0]!.subscribe([`type:${REMOTE_TYPE}`], {
      onEvent: (event: MailroomEvent) => {
        if (event.type === 'job_completed') completions.seen(event.job_id);
      },
    });
    const submitters = clients.slice(1);
    const job = { type: REMOTE_TYPE, input: { prompt: 'bench', data } };
    ctx.log(
      `mailroom: ${target.url} /ws ×${submitters.length} + 1 subscriber, remote worker with ${args.bullmqConcurrency} slots, ${describePlan(plan)}`,
    );
    const result = await measure({
      system: 'mailroom',
      measure: 'submit_job over /ws → remote worker → job_completed event',
      plan,
      send: async (i): Promise<Outcome> => {
        const view = await submitters[i % submitters.length]!.submitJob(job);
        return (await withTimeout(completions.wait(view.id, 1), TIMEOUT_MS)) === 'timeout' ? 'timeout' : true;
      },
      quiet: args.quiet,
      pids: { server: target.pid, redis: redis?.localPid },
      died: target.died,
      afterWarmup: async () => completions.clearEarly(),
    });
    result.extra.worker_slots = args.bullmqConcurrency;
    return result;
  } finally {
    worker?.stop();
    closeAll(clients);
    await target.stop();
  }
}

async function runBullmq(ctx: ScenarioContext, redis: RunRedis, data: string): Promise<SystemResult> {
  const { args } = ctx;
  const plan = loadPlan(args, DEFAULTS);
  const completions = new Completions();
  const native = await openNativeBullmq(redis.url, {
    workerConcurrency: args.bullmqConcurrency,
    listeners: 1,
    onCompleted: (id) => completions.seen(id),
  });
  try {
    ctx.log(
      `bullmq: queue.add → Worker (concurrency ${args.bullmqConcurrency}) → QueueEvents, all in this process, ${describePlan(plan)}`,
    );
    const input = { prompt: 'bench', data };
    const result = await measure({
      system: 'bullmq',
      measure: 'queue.add → Worker → QueueEvents completed',
      plan,
      send: async (): Promise<Outcome> => {
        const job = await native.queue.add(REMOTE_TYPE, input);
        return (await withTimeout(completions.wait(job.id!, 1), TIMEOUT_MS)) === 'timeout' ? 'timeout' : true;
      },
      quiet: args.quiet,
      pids: { redis: redis.localPid },
      afterWarmup: async () => completions.clearEarly(),
    });
    result.extra.worker_slots = args.bullmqConcurrency;
    return result;
  } finally {
    await native.close();
  }
}

export const e2eWs: Scenario = {
  name: 'e2e-ws',
  description:
    'submit over /ws → remote worker on /ws/worker → job_completed event; latency = the whole round',
  unavailable: async () => undefined,
  async run(ctx) {
    const { args } = ctx;
    const redis = await runRedis(args);
    const data = 'x'.repeat(args.payloadBytes);
    try {
      const results = [await runMailroom(ctx, redis, data)];
      if (args.compare === 'bullmq' && redis) results.push(await runBullmq(ctx, redis, data));
      const notes = [
        'the remote worker (Mailroom) and the BullMQ Worker both run in the generator process, with as many slots as --bullmq-concurrency; generator CPU includes them',
      ];
      return { results, notes, settings: settings(args), ...(redis ? { redisVersion: redis.version } : {}) };
    } finally {
      await redis?.stop();
    }
  },
};
