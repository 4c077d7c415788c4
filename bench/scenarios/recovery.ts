/**
 * recovery: the durability promise under load. Mailroom runs on Redis; jobs (`sleep` 20 ms, so
 * some are always running) are submitted at a fixed rate; at KILL_AT of the window the server
 * gets kill -9 and is restarted at once while submissions go on (those sent while it is down
 * fail and were never acknowledged). The new process listens on a new port, since the old one
 * sits in TIME_WAIT after the kill, and the generator follows it. Afterwards every acknowledged job must
 * exist and reach `completed`, and the durable event log must hold exactly one job_completed per
 * job: lost = acknowledged but missing or not completed; duplicated = completed more than once.
 */
import { Redis } from 'ioredis';
import { Packr } from 'msgpackr';
import { eventSnapshot } from '../../src/actors/event-snapshot.js';
import { UsageError } from '../harness/args.js';
import { httpTarget, requestJson } from '../harness/http-load.js';
import type { Outcome } from '../harness/load.js';
import { startMailroom } from '../harness/processes.js';
import { loadPlan, measure } from '../harness/run.js';
import { deleteRedisKeys, runRedis, type Scenario, sleep, unfinishedJobs, waitForDrain } from './common.js';
import { describePlan, settings } from './submit-http.js';

const DEFAULTS = { durationMs: 10_000, connections: 32 };
const DEFAULT_RATE = 300;
const KILL_AT = 0.4;
const SETTLE_TIMEOUT_MS = 30_000;

/** The store's encoding of event-log entries (plain msgpack). */
const packr = new Packr({ useRecords: false, moreTypes: false });

export const recovery: Scenario = {
  name: 'recovery',
  description:
    'submit at a fixed rate, kill -9 the server mid-run, restart it, count lost and duplicated jobs',
  unavailable: async () => undefined,
  async run(ctx) {
    const { args } = ctx;
    if (args.url) throw new UsageError('recovery kills and restarts the server itself: it cannot use --url');
    if (args.connections !== undefined)
      throw new UsageError('recovery runs an open loop: use --rate, not --connections');
    const runArgs = { ...args, redis: args.redis ?? 'private', rate: args.rate ?? DEFAULT_RATE, warmupMs: 0 };
    const plan = loadPlan(runArgs, DEFAULTS);
    const redis = (await runRedis(runArgs))!;
    const prefix = `bench-mailroom-${Math.random().toString(16).slice(2, 10)}`;
    const start = () => startMailroom({ redisUrl: redis.url, redisPrefix: `${prefix}:` });
    let server = await start();
    let http: ReturnType<typeof httpTarget> | undefined = httpTarget(server.url, {
      connections: plan.connections,
    });
    const body = JSON.stringify({ type: 'sleep', input: { ms: 20, data: 'x'.repeat(args.payloadBytes) } });
    const acked: string[] = [];
    const send = async (): Promise<Outcome> => {
      // While no server is up, a client gets "connection refused": nothing was acknowledged.
      if (!http) return 'ECONNREFUSED';
      const job = await requestJson<{ id: string }>(http, 'POST', '/api/v1/jobs', body);
      acked.push(job.id);
      return true;
    };
    let downMs = 0;
    let restartError: unknown;
    const killer = (async () => {
      await sleep(plan.durationMs * KILL_AT);
      ctx.log(`recovery: kill -9 ${server.pid} after ${acked.length} acknowledged jobs`);
      const killedAt = performance.now();
      const old = http;
      http = undefined;
      await server.kill9();
      void old?.close().catch(() => {});
      server = await start();
      http = httpTarget(server.url, { connections: plan.connections });
      downMs = performance.now() - killedAt;
      ctx.log(`recovery: restarted as ${server.pid} on ${server.url} in ${Math.round(downMs)} ms`);
    })().catch((error: unknown) => {
      restartError = error;
    });
    try {
      ctx.log(
        `mailroom: ${server.url} (Redis store), ${describePlan(plan)}, kill -9 at ${KILL_AT * 100}% of the window`,
      );
      const result = await measure({
        system: 'mailroom',
        measure: 'POST /api/v1/jobs → 202 across a kill -9 and restart',
        plan,
        send,
        quiet: args.quiet,
        pids: { redis: redis.localPid },
      });
      await killer;
      if (restartError || !http)
        throw new Error(`restart after kill -9 failed: ${(restartError as Error)?.message}`);
      const live = http;
      const stats = async () =>
        (await requestJson<{ jobs: { by_status: Record<string, number> } }>(live, 'GET', '/api/v1/stats'))
          .jobs.by_status;
      const settle = await waitForDrain(async () => unfinishedJobs(await stats()), SETTLE_TIMEOUT_MS);
      const check = await verify(live, acked);
      const events = await completionsInLog(redis.url, `${prefix}:events`);
      let duplicated = 0;
      let missingEvent = 0;
      for (const id of acked) {
        const n = events.get(id) ?? 0;
        if (n > 1) duplicated++;
        if (n === 0) missingEvent++;
      }
      result.extra = {
        acknowledged: acked.length,
        not_acknowledged: result.errors,
        down_ms: Math.round(downMs),
        settle_ms: Math.round(settle.ms),
        lost: check.lost,
        not_completed: check.notCompleted,
        duplicated,
        completed_event_missing: missingEvent,
        rerun_after_crash: check.rerun,
      };
      // A completed job owes the log exactly one job_completed: none is as wrong as two.
      const problems = check.lost + check.notCompleted + duplicated + missingEvent;
      return {
        results: [result],
        notes: [
          'errors are submissions sent while the server was down: refused, so never acknowledged, so not counted as lost',
          'rerun_after_crash counts jobs with more than one attempt: delivery is at-least-once, completion exactly-once',
        ],
        settings: { ...settings(runArgs), job: 'sleep 20 ms', kill_at: KILL_AT },
        redisVersion: redis.version,
        errorsExpected: true,
        ...(problems > 0
          ? {
              failure: `${check.lost} lost, ${check.notCompleted} not completed, ${duplicated} completed twice, ${missingEvent} without job_completed in the log`,
            }
          : {}),
      };
    } finally {
      await killer;
      await http?.close();
      await server.stop();
      await deleteRedisKeys(redis.url, prefix);
      await redis.stop();
    }
  },
};

/** Fetches every acknowledged job (64 at a time). */
async function verify(http: ReturnType<typeof httpTarget>, ids: string[]) {
  let lost = 0;
  let notCompleted = 0;
  let rerun = 0;
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      try {
        const job = await requestJson<{ status: string; attempts: number }>(
          http,
          'GET',
          `/api/v1/jobs/${id}`,
        );
        if (job.status !== 'completed') notCompleted++;
        if (job.attempts > 1) rerun++;
      } catch (error) {
        if ((error as { code?: string }).code === 'http 404') lost++;
        else throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  return { lost, notCompleted, rerun };
}

/** job_completed events per job id in the durable event log (a Redis stream of msgpack entries). */
async function completionsInLog(url: string, key: string): Promise<Map<string, number>> {
  const client = new Redis(url, { maxRetriesPerRequest: 2 });
  const counts = new Map<string, number>();
  try {
    let start = '-';
    for (;;) {
      const entries = await client.xrangeBuffer(key, start, '+', 'COUNT', 5000);
      for (const [, fields] of entries) {
        // One stream entry holds the events of one commit call (msgpack values back to back),
        // each in its stored form.
        for (const stored of packr.unpackMultiple(fields[1]!) as unknown[]) {
          const event = eventSnapshot.decode(stored) as { type: string; job_id?: string };
          if (event.type === 'job_completed' && event.job_id)
            counts.set(event.job_id, (counts.get(event.job_id) ?? 0) + 1);
        }
      }
      if (entries.length < 5000) break;
      start = `(${entries[entries.length - 1]![0].toString()}`;
    }
  } finally {
    client.disconnect();
  }
  return counts;
}
