/**
 * Command-line flags of `npm run bench` / `mailroom bench`, parsed once into BenchArgs. Usage
 * errors throw UsageError (exit code 2). `--redis` takes an optional URL: alone it means "start a
 * private redis-server", never the shared one on 6379.
 */
import { parseArgs } from 'node:util';

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface BenchArgs {
  scenario: string | undefined;
  durationMs: number | undefined;
  warmupMs: number;
  rate: number | undefined;
  /** Open loop: wait for each send on a timer (1 ms grain) or by polling (on time, a busy core). */
  pacer: 'timer' | 'spin';
  connections: number | undefined;
  pipelining: number;
  payloadBytes: number;
  /** Whether --payload-bytes was given (mixed-payload's default is 2 MiB, not 128). */
  payloadBytesGiven: boolean;
  /** mixed-payload: large submits per second. */
  largeRate: number | undefined;
  /** undefined = in-memory store; 'private' = start our own redis-server; else a URL. */
  redis: string | undefined;
  compare: 'bullmq' | undefined;
  out: string;
  url: string | undefined;
  apiKey: string | undefined;
  json: boolean;
  quiet: boolean;
  noReport: boolean;
  bullmqConcurrency: number;
  subscribers: number | undefined;
  help: boolean;
}

export const PRIVATE_REDIS = 'private';

export const BENCH_USAGE = `Usage: npm run bench -- <scenario> [options]
       mailroom bench <scenario> [options]

Scenarios:
  submit-http     POST /api/v1/jobs (echo) over keep-alive HTTP; --compare bullmq: Fastify + queue.add
  submit-ws       submit_job over the /ws client protocol
  e2e-ws          submit → remote worker over /ws/worker → completion event
  workflow-dag    diamond workflows (a → b, c → d) over HTTP, submit → workflow completed
  fanout          one stream of job events to many /ws subscribers
  mixed-payload   small echo submits (--rate, default 300/s) with large checksum submits
                  (--payload-bytes, default 2 MiB, at --large-rate, default 20/s): variants
                  baseline, pool and no-pool, each on its own spawned server (no --url);
                  small-submit p99 ÷ baseline against the ≤ 2× target
  recovery        submit at a rate, kill -9 the server mid-run, restart, count lost and duplicated jobs

Load (pick one; each scenario has a default):
  --connections <n>      closed loop: n requests in flight, each sent when the last answered
  --rate <n>             open loop: n requests per second on a fixed schedule; latency counted
                         from each request's intended send time (coordinated-omission corrected)
  --pacer <timer|spin>   open loop: wait for each send on a timer (1 ms grain, sends up to 1 ms
                         late) or poll between sends (on time, but the generator keeps a core busy)
                                                                                [timer]
  --pipelining <n>       HTTP requests in flight per connection (closed loop)   [1]
  --duration <d>         measured time: 10s, 500ms, 1m (a bare number is seconds)  [per scenario]
  --warmup <d>           load before measuring, not recorded                    [1s]
  --payload-bytes <n>    size of each job's input.data                          [128]
                         (mixed-payload: of the large submits only           [2097152])

Target:
  --url <url>            use a running server instead of spawning dist/src/cli.js serve
  --api-key <key>        sent as x-api-key (with --url)
  --redis [url]          durable store: the given Redis, or a private redis-server on a free port
                         (the harness never touches a Redis it was not given)
  --compare bullmq       run the same workload on BullMQ (Fastify for HTTP) against the same Redis
                         in the same run, and print Mailroom ÷ BullMQ ratios; implies --redis
  --bullmq-concurrency <n>  BullMQ Worker concurrency                          [256]
  --subscribers <n>      fanout: number of subscribers
  --large-rate <n>       mixed-payload: large submits per second                [20]

Output:
  --out <dir>            where the JSON and HTML reports go                     [bench-results]
  --no-report            write no files
  --json                 also print the JSON report on stdout
  --quiet                no live progress line
  -h, --help             this help

Exit codes: 0 done, 1 the run failed (server died, errors above the limit, lost jobs),
2 usage error or scenario not available in this build.
`;

/** 10s, 500ms, 1m, 1.5s; a bare number is seconds. */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match) throw new UsageError(`${flag}: expected a duration like 10s, 500ms or 1m, got "${text}"`);
  const value = Number(match[1]);
  const unit = match[2] ?? 's';
  const ms = unit === 'ms' ? value : unit === 's' ? value * 1000 : value * 60_000;
  if (!(ms > 0) && flag !== '--warmup') throw new UsageError(`${flag} must be more than 0`);
  return ms;
}

function positiveInt(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text.replace(/_/g, ''));
  if (!Number.isInteger(value) || value < 1)
    throw new UsageError(`${flag}: expected a positive integer, got "${text}"`);
  return value;
}

/** `--redis` followed by something that is not a URL means the private server. */
function normalizeRedisFlag(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--redis') {
      const next = argv[i + 1];
      if (next !== undefined && /^rediss?:\/\//.test(next)) {
        out.push(`--redis=${next}`);
        i++;
      } else out.push(`--redis=${PRIVATE_REDIS}`);
    } else out.push(arg);
  }
  return out;
}

export function parseBenchArgs(argv: string[]): BenchArgs {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(normalizeRedisFlag(argv));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) throw new UsageError(`one scenario at a time, got: ${positionals.join(' ')}`);
  const compare = values.compare;
  if (compare !== undefined && compare !== 'bullmq')
    throw new UsageError(`--compare: only "bullmq" is supported, got "${compare}"`);
  const rate = positiveInt(values.rate, '--rate');
  const connections = positiveInt(values.connections, '--connections');
  if (rate !== undefined && connections !== undefined) {
    throw new UsageError('--rate (open loop) and --connections (closed loop) exclude each other');
  }
  const pacer = values.pacer ?? 'timer';
  if (pacer !== 'timer' && pacer !== 'spin')
    throw new UsageError(`--pacer: expected "timer" or "spin", got "${pacer}"`);
  if (values.pacer !== undefined && rate === undefined)
    throw new UsageError('--pacer paces the open loop: give --rate too');
  const redis = values.redis;
  if (redis !== undefined && redis !== PRIVATE_REDIS && !/^rediss?:\/\//.test(redis)) {
    throw new UsageError(`--redis: expected redis://… or rediss://…, got "${redis}"`);
  }
  if (values.url !== undefined && !/^https?:\/\//.test(values.url))
    throw new UsageError(`--url: expected http://…, got "${values.url}"`);
  return {
    scenario: positionals[0],
    durationMs: values.duration === undefined ? undefined : parseDuration(values.duration, '--duration'),
    warmupMs: values.warmup === undefined ? 1_000 : parseDuration(values.warmup, '--warmup'),
    rate,
    pacer,
    connections,
    pipelining: positiveInt(values.pipelining, '--pipelining') ?? 1,
    payloadBytes: values['payload-bytes'] === undefined ? 128 : nonNegative(values['payload-bytes']),
    payloadBytesGiven: values['payload-bytes'] !== undefined,
    largeRate: positiveInt(values['large-rate'], '--large-rate'),
    redis: redis ?? (compare ? PRIVATE_REDIS : undefined),
    compare: compare as 'bullmq' | undefined,
    out: values.out ?? 'bench-results',
    url: values.url,
    apiKey: values['api-key'],
    json: values.json ?? false,
    quiet: values.quiet ?? false,
    noReport: values['no-report'] ?? false,
    bullmqConcurrency: positiveInt(values['bullmq-concurrency'], '--bullmq-concurrency') ?? 256,
    subscribers: positiveInt(values.subscribers, '--subscribers'),
    help: values.help ?? false,
  };
}

function nonNegative(text: string): number {
  const value = Number(text.replace(/_/g, ''));
  if (!Number.isInteger(value) || value < 0)
    throw new UsageError(`--payload-bytes: expected an integer ≥ 0, got "${text}"`);
  return value;
}

function parse(args: string[]) {
  return parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      duration: { type: 'string' },
      warmup: { type: 'string' },
      rate: { type: 'string' },
      pacer: { type: 'string' },
      connections: { type: 'string' },
      pipelining: { type: 'string' },
      'payload-bytes': { type: 'string' },
      redis: { type: 'string' },
      compare: { type: 'string' },
      out: { type: 'string' },
      url: { type: 'string' },
      'api-key': { type: 'string' },
      json: { type: 'boolean' },
      quiet: { type: 'boolean' },
      'no-report': { type: 'boolean' },
      'bullmq-concurrency': { type: 'string' },
      subscribers: { type: 'string' },
      'large-rate': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

/** The command line as a reader could type it again, for the report. */
export function commandLine(argv: string[]): string {
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  return `npm run bench -- ${argv.map(quote).join(' ')}`.trim();
}
