/**
 * submit-ws: `submit_job` frames over /ws connections; latency = submit → `ack` (durable with
 * --redis). Then every job is waited for and completions per second reported, as in submit-http.
 * With --compare bullmq the peer is BullMQ used as its users use it from a client: `queue.add`
 * straight to Redis from this process (BullMQ has no client protocol but Redis), with a Worker
 * completing the jobs in its own process.
 */
import { httpTarget, requestJson } from '../harness/http-load.js';
import type { Outcome } from '../harness/load.js';
import type { SystemResult } from '../harness/result.js';
import { loadPlan, measure } from '../harness/run.js';
import { startBullmqPeer } from '../peers/bullmq.js';
import { openNativeBullmq } from '../peers/bullmq-native.js';
import {
  authHeaders,
  DRAIN_TIMEOUT_MS,
  mailroomTarget,
  type RunRedis,
  runRedis,
  type Scenario,
  type ScenarioContext,
  unfinishedJobs,
  waitForDrain,
  withCompletion,
} from './common.js';
import { describePlan, settings } from './submit-http.js';
import { closeAll, openWsClients } from './ws-common.js';

const DEFAULTS = { durationMs: 10_000, connections: 64 };

async function runMailroom(
  ctx: ScenarioContext,
  redis: RunRedis | undefined,
  input: unknown,
): Promise<SystemResult> {
  const { args } = ctx;
  const plan = loadPlan(args, DEFAULTS);
  const target = await mailroomTarget(args, redis);
  const http = httpTarget(target.url, { connections: 2 });
  const clients = await openWsClients(target.url, plan.connections, args.apiKey).catch(
    async (error: unknown) => {
      await target.stop();
      throw error;
    },
  );
  const headers = authHeaders(args);
  const stats = async () =>
    (
      await requestJson<{ jobs: { by_status: Record<string, number> } }>(
        http,
        'GET',
        '/api/v1/stats',
        undefined,
        headers,
      )
    ).jobs.by_status;
  const unfinished = async () => unfinishedJobs(await stats());
  const job = { type: 'echo', input };
  try {
    ctx.log(
      `mailroom: ${target.url} /ws ×${clients.length} (${redis ? 'Redis store' : 'in-memory store'}), ${describePlan(plan)}`,
    );
    let before = 0;
    const result = await measure({
      system: 'mailroom',
      measure: 'submit_job → ack over /ws',
      plan,
      send: async (i): Promise<Outcome> => {
        await clients[i % clients.length]!.submitJob(job);
        return true;
      },
      quiet: args.quiet,
      pids: { server: target.pid, redis: redis?.localPid },
      died: target.died,
      afterWarmup: async () => {
        await waitForDrain(unfinished, DRAIN_TIMEOUT_MS);
        before = (await stats()).completed ?? 0;
      },
    });
    const drain = await waitForDrain(unfinished, DRAIN_TIMEOUT_MS);
    return withCompletion(result, ((await stats()).completed ?? 0) - before, drain);
  } finally {
    closeAll(clients);
    await http.close();
    await target.stop();
  }
}

async function runBullmq(ctx: ScenarioContext, redis: RunRedis, input: unknown): Promise<SystemResult> {
  const { args } = ctx;
  const plan = loadPlan(args, DEFAULTS);
  const peer = await startBullmqPeer(redis.url, args.bullmqConcurrency);
  const native = await openNativeBullmq(redis.url, { shared: { prefix: peer.prefix, queue: peer.queue } });
  const unfinished = async () => {
    const c = await peer.counts();
    return (c.active ?? 0) + (c.wait ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0);
  };
  try {
    ctx.log(
      `bullmq: queue.add from this process, Worker (concurrency ${args.bullmqConcurrency}) in the peer, ${describePlan(plan)}`,
    );
    let before = 0;
    const result = await measure({
      system: 'bullmq',
      measure: 'queue.add → resolved (client straight to Redis)',
      plan,
      send: async (): Promise<Outcome> => {
        await native.queue.add('echo', input);
        return true;
      },
      quiet: args.quiet,
      pids: { server: peer.pid, redis: redis.localPid },
      afterWarmup: async () => {
        await waitForDrain(unfinished, DRAIN_TIMEOUT_MS);
        before = (await peer.counts()).completed ?? 0;
      },
    });
    const drain = await waitForDrain(unfinished, DRAIN_TIMEOUT_MS);
    return withCompletion(result, ((await peer.counts()).completed ?? 0) - before, drain);
  } finally {
    await native.close();
    await peer.close();
  }
}

export const submitWs: Scenario = {
  name: 'submit-ws',
  description:
    'submit echo jobs as submit_job frames over /ws; latency = submit → ack; then completions per second',
  unavailable: async () => undefined,
  async run(ctx) {
    const { args } = ctx;
    const redis = await runRedis(args);
    const input = { data: 'x'.repeat(args.payloadBytes) };
    try {
      const results = [await runMailroom(ctx, redis, input)];
      if (args.compare === 'bullmq' && redis) results.push(await runBullmq(ctx, redis, input));
      const notes = args.compare
        ? [
            'BullMQ has no client protocol: its clients call queue.add on Redis directly (one ioredis connection, auto-pipelined), which is what it is compared with here; its Worker runs in a separate process, as Mailroom executes in the server',
          ]
        : [];
      return { results, notes, settings: settings(args), ...(redis ? { redisVersion: redis.version } : {}) };
    } finally {
      await redis?.stop();
    }
  },
};
