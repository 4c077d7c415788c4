/**
 * What every scenario shares: the Scenario contract the registry lists, and the systems under
 * test: Mailroom (spawned from dist with the store asked for, or the --url given) and the Redis
 * both systems use. Scenario files only describe their workload.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { type JobStatus, TERMINAL_JOB_STATUSES } from '../../src/schemas/job.js';
import type { BenchArgs } from '../harness/args.js';
import {
  type MailroomProcess,
  openRedis,
  type RedisProcess,
  redisPid,
  redisVersion,
  startMailroom,
} from '../harness/processes.js';
import type { SystemResult } from '../harness/result.js';
import { deleteKeys } from '../peers/bullmq.js';

export interface ScenarioContext {
  args: BenchArgs;
  /** A line on stderr (the table and JSON go to stdout). */
  log(line: string): void;
}

export interface ScenarioOutcome {
  results: SystemResult[];
  notes: string[];
  settings: Record<string, string | number | boolean | null>;
  redisVersion?: string;
  /** Set when the run shows a failure (lost jobs, the server died): exit code 1. */
  failure?: string;
  /** Errors are part of the scenario (recovery): no failure for them. */
  errorsExpected?: boolean;
}

export interface Scenario {
  name: string;
  description: string;
  /** Why it cannot run in this build, or undefined when it can (exit code 2 otherwise). */
  unavailable(args: BenchArgs): Promise<string | undefined>;
  run(ctx: ScenarioContext): Promise<ScenarioOutcome>;
}

/** The Redis of a run (when --redis or --compare asked for one), with its pid for the CPU column. */
export interface RunRedis extends RedisProcess {
  version: string;
  /** pid of the redis-server when it runs on this machine. */
  localPid: number | undefined;
}

export async function runRedis(args: BenchArgs): Promise<RunRedis | undefined> {
  if (args.redis === undefined) return undefined;
  const redis = await openRedis(args.redis);
  try {
    return Object.assign(redis, {
      version: await redisVersion(redis.url),
      localPid: redis.pid ?? (await redisPid(redis.url)),
    });
  } catch (error) {
    await redis.stop();
    throw new Error(`cannot use Redis at ${redis.url}: ${(error as Error).message}`);
  }
}

export interface MailroomTarget {
  url: string;
  pid: number | undefined;
  process: MailroomProcess | undefined;
  /** Why the spawned server is gone (it exited during the run), or undefined while it runs. */
  died(): string | undefined;
  /** Stops a spawned server and deletes its keys from Redis; a --url server is left alone. */
  stop(): Promise<void>;
}

export async function mailroomTarget(
  args: BenchArgs,
  redis: RunRedis | undefined,
  options: { configPath?: string } = {},
): Promise<MailroomTarget> {
  if (args.url)
    return {
      url: args.url.replace(/\/+$/, ''),
      pid: undefined,
      process: undefined,
      died: () => undefined,
      stop: async () => {},
    };
  const prefix = redis ? `bench-mailroom-${randomBytes(4).toString('hex')}` : undefined;
  const server = await startMailroom({
    redisUrl: redis?.url,
    redisPrefix: prefix === undefined ? undefined : `${prefix}:`,
    configPath: options.configPath,
  });
  let exit: string | undefined;
  void server.exited.then(({ code, signal }) => {
    exit = `the server exited during the run (${signal ?? `code ${code}`}); its last lines:\n${server.tail()}`;
  });
  let stopping = false;
  return {
    url: server.url,
    pid: server.pid,
    process: server,
    died: () => (stopping ? undefined : exit),
    stop: async () => {
      stopping = true;
      await server.stop();
      if (redis && prefix) await deleteRedisKeys(redis.url, prefix);
    },
  };
}

export async function deleteRedisKeys(url: string, prefix: string): Promise<void> {
  const client = new Redis(url, { maxRetriesPerRequest: 2 });
  try {
    await deleteKeys(client, `${prefix}:*`);
  } finally {
    client.disconnect();
  }
}

/** Headers for requests to Mailroom (the API key with --url). */
export function authHeaders(args: BenchArgs): Record<string, string> {
  return args.apiKey ? { 'x-api-key': args.apiKey } : {};
}

/** An echo job's body with `payloadBytes` of input data (the same bytes go to BullMQ). */
export function echoBody(payloadBytes: number): string {
  return JSON.stringify({ type: 'echo', input: { data: 'x'.repeat(payloadBytes) } });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** How long a scenario waits after its window for the jobs it submitted to finish. */
export const DRAIN_TIMEOUT_MS = 20_000;

/** Jobs not yet in a terminal status, from the counts of `GET /api/v1/stats`. */
export function unfinishedJobs(byStatus: Readonly<Record<string, number>>): number {
  let count = 0;
  for (const status in byStatus) {
    if (!TERMINAL_JOB_STATUSES.has(status as JobStatus)) count += byStatus[status] ?? 0;
  }
  return count;
}

/** Records on a result how many jobs completed and how long the drain after the window took. */
export function withCompletion(
  result: SystemResult,
  completed: number,
  drain: { ms: number; drained: boolean; left: number },
): SystemResult {
  result.extra.completed = completed;
  result.extra.drain_ms = Math.round(drain.ms);
  if (!drain.drained) result.extra.unfinished_after_drain = drain.left;
  result.extra.completed_per_s = Math.round((completed * 1000) / (result.windowMs + drain.ms));
  return result;
}

/**
 * Polls `unfinished()` until it reports 0 or `timeoutMs` passes; resolves with the time it took
 * and whether it got there.
 */
export async function waitForDrain(
  unfinished: () => Promise<number>,
  timeoutMs: number,
): Promise<{ ms: number; drained: boolean; left: number }> {
  const started = performance.now();
  for (;;) {
    const left = await unfinished();
    const ms = performance.now() - started;
    if (left === 0) return { ms, drained: true, left };
    if (ms > timeoutMs) return { ms, drained: false, left };
    await sleep(50);
  }
}
