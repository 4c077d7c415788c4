/**
 * submit-http: `POST /api/v1/jobs` of echo jobs over keep-alive HTTP, the submit path alone:
 * latency is request → 202 (with --redis, 202 means the job is in Redis). After the window the
 * harness waits for every job to complete and reports end-to-end completions per second.
 * With --compare bullmq the same bodies go to Fastify → queue.add on the same Redis, with a
 * BullMQ Worker completing them in the same process, as Mailroom does.
 */
import type { BenchArgs } from '../harness/args.js';
import { httpTarget, postSender, requestJson } from '../harness/http-load.js';
import type { SystemResult } from '../harness/result.js';
import { loadPlan, measure } from '../harness/run.js';
import { startBullmqPeer } from '../peers/bullmq.js';
import {
  authHeaders,
  DRAIN_TIMEOUT_MS,
  echoBody,
  mailroomTarget,
  type RunRedis,
  runRedis,
  type Scenario,
  type ScenarioContext,
  unfinishedJobs,
  waitForDrain,
  withCompletion,
} from './common.js';

const DEFAULTS = { durationMs: 10_000, connections: 64 };

interface StatsBody {
  jobs: { by_status: Record<string, number> };
}

async function runMailroom(
  ctx: ScenarioContext,
  redis: RunRedis | undefined,
  body: string,
): Promise<SystemResult> {
  const { args } = ctx;
  const plan = loadPlan(args, DEFAULTS);
  const target = await mailroomTarget(args, redis);
  const http = httpTarget(target.url, { connections: plan.connections, pipelining: args.pipelining });
  const headers = authHeaders(args);
  const stats = async () =>
    (await requestJson<StatsBody>(http, 'GET', '/api/v1/stats', undefined, headers)).jobs.by_status;
  const unfinished = async () => unfinishedJobs(await stats());
  try {
    ctx.log(`mailroom: ${target.url} (${redis ? 'Redis store' : 'in-memory store'}), ${describePlan(plan)}`);
    let completedBefore = 0;
    const result = await measure({
      system: 'mailroom',
      measure: 'POST /api/v1/jobs → 202',
      plan,
      send: postSender(http, '/api/v1/jobs', body, headers),
      quiet: args.quiet,
      pids: { server: target.pid, redis: redis?.localPid },
      died: target.died,
      afterWarmup: async () => {
        await waitForDrain(unfinished, DRAIN_TIMEOUT_MS);
        completedBefore = (await stats()).completed ?? 0;
      },
    });
    const drain = await waitForDrain(unfinished, DRAIN_TIMEOUT_MS);
    const completed = ((await stats()).completed ?? 0) - completedBefore;
    return withCompletion(result, completed, drain);
  } finally {
    await http.close();
    await target.stop();
  }
}

async function runBullmq(ctx: ScenarioContext, redis: RunRedis, body: string): Promise<SystemResult> {
  const { args } = ctx;
  const plan = loadPlan(args, DEFAULTS);
  const peer = await startBullmqPeer(redis.url, args.bullmqConcurrency);
  const http = httpTarget(peer.url, { connections: plan.connections, pipelining: args.pipelining });
  const unfinished = async () => {
    const c = await peer.counts();
    return (c.active ?? 0) + (c.wait ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0);
  };
  try {
    ctx.log(
      `bullmq: ${peer.url} (Fastify + BullMQ ${args.bullmqConcurrency} concurrency), ${describePlan(plan)}`,
    );
    let completedBefore = 0;
    const result = await measure({
      system: 'bullmq',
      measure: 'POST /jobs → queue.add → 202',
      plan,
      send: postSender(http, '/jobs', body),
      quiet: args.quiet,
      pids: { server: peer.pid, redis: redis.localPid },
      afterWarmup: async () => {
        await waitForDrain(unfinished, DRAIN_TIMEOUT_MS);
        completedBefore = (await peer.counts()).completed ?? 0;
      },
    });
    const drain = await waitForDrain(unfinished, DRAIN_TIMEOUT_MS);
    const completed = ((await peer.counts()).completed ?? 0) - completedBefore;
    return withCompletion(result, completed, drain);
  } finally {
    await http.close();
    await peer.close();
  }
}

export function describePlan(plan: ReturnType<typeof loadPlan>): string {
  const load = plan.mode === 'open' ? `open loop ${plan.rate}/s` : `closed loop ×${plan.concurrency}`;
  return `${load} for ${plan.durationMs / 1000}s after ${plan.warmupMs / 1000}s warm-up`;
}

export const submitHttp: Scenario = {
  name: 'submit-http',
  description:
    'submit echo jobs over keep-alive HTTP; latency = request → 202; then completions per second until drained',
  unavailable: async () => undefined,
  async run(ctx) {
    const { args } = ctx;
    const redis = await runRedis(args);
    const body = echoBody(args.payloadBytes);
    try {
      const results = [await runMailroom(ctx, redis, body)];
      if (args.compare === 'bullmq' && redis) results.push(await runBullmq(ctx, redis, body));
      return {
        results,
        notes: notes(args),
        settings: settings(args),
        ...(redis ? { redisVersion: redis.version } : {}),
      };
    } finally {
      await redis?.stop();
    }
  },
};

function notes(args: BenchArgs): string[] {
  const out: string[] = [];
  if (!args.redis)
    out.push('in-memory store: nothing is durable; use --redis (or --compare bullmq) for the durable path');
  if (args.compare === 'bullmq') {
    out.push(
      'both systems ran one after the other on the same Redis, each its own keys deleted after its run; one Node process each (HTTP + execution)',
    );
  }
  return out;
}

export function settings(args: BenchArgs): Record<string, string | number | boolean | null> {
  return {
    payload_bytes: args.payloadBytes,
    pipelining: args.pipelining,
    warmup_ms: args.warmupMs,
    store: args.redis ? 'redis' : 'memory',
    compare: args.compare ?? null,
    bullmq_concurrency: args.compare ? args.bullmqConcurrency : null,
    url: args.url ?? null,
  };
}
