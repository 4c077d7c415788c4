/**
 * fanout: many subscribers on one stream of events. --subscribers /ws connections (default 50)
 * each subscribe to `type:echo`; echo jobs are submitted over HTTP at a fixed rate (open loop,
 * default 100/s). One operation = submit → its job_completed event delivered to every
 * subscriber, so the latency is that of the slowest subscriber.
 * With --compare bullmq: the Fastify peer takes the submits and runs the Worker; each subscriber
 * is a QueueEvents listener (its own Redis connection, XREAD on the queue's events stream).
 */

import type { WsClient } from '../../src/client/index.js';
import type { MailroomEvent } from '../../src/schemas/events.js';
import { Completions, withTimeout } from '../harness/completions.js';
import { httpTarget, requestJson } from '../harness/http-load.js';
import type { Outcome } from '../harness/load.js';
import type { SystemResult } from '../harness/result.js';
import { loadPlan, measure } from '../harness/run.js';
import { startBullmqPeer } from '../peers/bullmq.js';
import { openNativeBullmq } from '../peers/bullmq-native.js';
import {
  authHeaders,
  echoBody,
  mailroomTarget,
  type RunRedis,
  runRedis,
  type Scenario,
  type ScenarioContext,
} from './common.js';
import { describePlan, settings } from './submit-http.js';
import { closeAll, openWsClients } from './ws-common.js';

const DEFAULTS = { durationMs: 10_000, connections: 16 };
const DEFAULT_RATE = 100;
const DEFAULT_SUBSCRIBERS = 50;
const TIMEOUT_MS = 30_000;

function withFanout(result: SystemResult, subscribers: number, completions: Completions): SystemResult {
  result.extra.subscribers = subscribers;
  result.extra.deliveries_per_s = Math.round((result.ok * subscribers * 1000) / result.windowMs);
  result.extra.undelivered = completions.pending;
  return result;
}

async function runMailroom(
  ctx: ScenarioContext,
  redis: RunRedis | undefined,
  subscribers: number,
): Promise<SystemResult> {
  const { args } = ctx;
  const plan = loadPlan(args, DEFAULTS);
  const target = await mailroomTarget(args, redis);
  const http = httpTarget(target.url, { connections: plan.connections, pipelining: args.pipelining });
  const completions = new Completions();
  let clients: WsClient[] = [];
  try {
    clients = await openWsClients(target.url, subscribers, args.apiKey);
    await Promise.all(
      clients.map((c) =>
        c.subscribe(['type:echo'], {
          onEvent: (event: MailroomEvent) => {
            if (event.type === 'job_completed') completions.seen(event.job_id);
          },
        }),
      ),
    );
    const body = echoBody(args.payloadBytes);
    const headers = authHeaders(args);
    ctx.log(`mailroom: ${target.url}, ${subscribers} /ws subscribers, ${describePlan(plan)}`);
    const result = await measure({
      system: 'mailroom',
      measure: `POST /api/v1/jobs → job_completed at all ${subscribers} /ws subscribers`,
      plan,
      send: async (): Promise<Outcome> => {
        const job = await requestJson<{ id: string }>(http, 'POST', '/api/v1/jobs', body, headers);
        return (await withTimeout(completions.wait(job.id, subscribers), TIMEOUT_MS)) === 'timeout'
          ? 'timeout'
          : true;
      },
      quiet: args.quiet,
      pids: { server: target.pid, redis: redis?.localPid },
      died: target.died,
      afterWarmup: async () => completions.clearEarly(),
    });
    return withFanout(result, subscribers, completions);
  } finally {
    closeAll(clients);
    await http.close();
    await target.stop();
  }
}

async function runBullmq(ctx: ScenarioContext, redis: RunRedis, subscribers: number): Promise<SystemResult> {
  const { args } = ctx;
  const plan = loadPlan(args, DEFAULTS);
  const peer = await startBullmqPeer(redis.url, args.bullmqConcurrency);
  const completions = new Completions();
  const http = httpTarget(peer.url, { connections: plan.connections, pipelining: args.pipelining });
  const native = await openNativeBullmq(redis.url, {
    shared: { prefix: peer.prefix, queue: peer.queue },
    listeners: subscribers,
    onCompleted: (id) => completions.seen(id),
  });
  try {
    const body = echoBody(args.payloadBytes);
    ctx.log(`bullmq: ${peer.url}, ${subscribers} QueueEvents listeners, ${describePlan(plan)}`);
    const result = await measure({
      system: 'bullmq',
      measure: `POST /jobs → completed at all ${subscribers} QueueEvents`,
      plan,
      send: async (): Promise<Outcome> => {
        const job = await requestJson<{ id: string }>(http, 'POST', '/jobs', body);
        return (await withTimeout(completions.wait(String(job.id), subscribers), TIMEOUT_MS)) === 'timeout'
          ? 'timeout'
          : true;
      },
      quiet: args.quiet,
      pids: { server: peer.pid, redis: redis.localPid },
      afterWarmup: async () => completions.clearEarly(),
    });
    return withFanout(result, subscribers, completions);
  } finally {
    await native.close();
    await http.close();
    await peer.close();
  }
}

export const fanout: Scenario = {
  name: 'fanout',
  description:
    'echo jobs at a fixed rate, each job_completed delivered to many /ws subscribers; latency = submit → last delivery',
  unavailable: async () => undefined,
  async run(ctx) {
    const args = { ...ctx.args };
    if (args.rate === undefined && args.connections === undefined) args.rate = DEFAULT_RATE;
    const subscribers = args.subscribers ?? DEFAULT_SUBSCRIBERS;
    const redis = await runRedis(args);
    try {
      const results = [await runMailroom({ ...ctx, args }, redis, subscribers)];
      if (args.compare === 'bullmq' && redis)
        results.push(await runBullmq({ ...ctx, args }, redis, subscribers));
      return {
        results,
        notes: [
          'subscribers run in the generator process; its CPU column shows what receiving the events cost',
        ],
        settings: { ...settings(args), subscribers },
        ...(redis ? { redisVersion: redis.version } : {}),
      };
    } finally {
      await redis?.stop();
    }
  },
};
