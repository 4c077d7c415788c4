/**
 * One measured phase against one system: an optional warm-up (not recorded), then the open or
 * closed loop with the progress line and CPU meters, folded into a SystemResult.
 */
import type { BenchArgs } from './args.js';
import { type Histogram, percentileCurve, summarize } from './histogram.js';
import { type Clock, closedLoop, openLoop, Recorder, realClock, type Send, spinClock } from './load.js';
import { Progress } from './progress.js';
import type { SystemName, SystemResult } from './result.js';
import { CpuMeter } from './system-info.js';

export interface LoadDefaults {
  durationMs: number;
  /** Closed-loop concurrency when neither --rate nor --connections is given. */
  connections: number;
}

export interface LoadPlan {
  mode: 'open' | 'closed';
  rate?: number;
  /** How the open loop waits for each send (`--pacer`). */
  pacer?: 'timer' | 'spin';
  /** In-flight requests in the closed loop (connections × pipelining). */
  concurrency: number;
  /** HTTP connections to open. */
  connections: number;
  durationMs: number;
  warmupMs: number;
}

export function loadPlan(args: BenchArgs, defaults: LoadDefaults): LoadPlan {
  const durationMs = args.durationMs ?? defaults.durationMs;
  if (args.rate !== undefined) {
    // Enough connections that an open loop is never held back by the pool at its rate.
    return {
      mode: 'open',
      rate: args.rate,
      pacer: args.pacer,
      concurrency: 0,
      connections: Math.max(16, defaults.connections),
      durationMs,
      warmupMs: args.warmupMs,
    };
  }
  const connections = args.connections ?? defaults.connections;
  return {
    mode: 'closed',
    concurrency: connections * args.pipelining,
    connections,
    durationMs,
    warmupMs: args.warmupMs,
  };
}

export interface MeasureOptions {
  system: SystemName;
  measure: string;
  plan: LoadPlan;
  send: Send;
  quiet: boolean;
  /** Processes whose CPU is reported beside the generator's. */
  pids: { server?: number | undefined; redis?: number | undefined };
  /** Why the system under test is gone, if it is: checked after the window, and fails the run. */
  died?: () => string | undefined;
  /** Runs between the warm-up and the measured window (e.g. wait for the queue to drain). */
  afterWarmup?: () => Promise<void>;
}

function pacerClock(plan: LoadPlan): Clock {
  return plan.pacer === 'spin' ? spinClock : realClock;
}

export async function measure(options: MeasureOptions): Promise<SystemResult> {
  const { plan, send } = options;
  if (plan.warmupMs > 0) {
    const warm = new Recorder(performance.now());
    if (plan.mode === 'open')
      await openLoop({
        rate: plan.rate!,
        durationMs: plan.warmupMs,
        send,
        recorder: warm,
        clock: pacerClock(plan),
      });
    else await closedLoop({ connections: plan.concurrency, durationMs: plan.warmupMs, send, recorder: warm });
  }
  await options.afterWarmup?.();
  const recorder = new Recorder(performance.now());
  const progress = new Progress(options.system, recorder, plan.durationMs, options.quiet);
  const cpu = new CpuMeter(options.pids);
  progress.start();
  let latency: ReturnType<typeof summarize>;
  let curveSource = recorder.histogram;
  let serviceTime: ReturnType<typeof summarize> | undefined;
  let expectedIntervalMs: number | undefined;
  let windowMs: number;
  try {
    if (plan.mode === 'open') {
      const result = await openLoop({
        rate: plan.rate!,
        durationMs: plan.durationMs,
        send,
        recorder,
        clock: pacerClock(plan),
      });
      windowMs = result.windowMs;
      latency = summarize(recorder.histogram);
    } else {
      const result = await closedLoop({
        connections: plan.concurrency,
        durationMs: plan.durationMs,
        send,
        recorder,
      });
      windowMs = result.windowMs;
      latency = summarize(result.corrected);
      curveSource = result.corrected;
      serviceTime = summarize(result.serviceTime);
      expectedIntervalMs = Math.round(result.expectedIntervalMs * 1000) / 1000;
    }
  } finally {
    progress.stop();
  }
  const usage = cpu.stop();
  const death = options.died?.();
  if (death) throw new Error(`${options.system}: ${death}`);
  return systemResult({
    system: options.system,
    measure: options.measure,
    plan,
    recorder,
    windowMs,
    latency,
    curveSource,
    ...(serviceTime ? { serviceTime, expectedIntervalMs } : {}),
    cpu: usage,
  });
}

function systemResult(r: {
  system: SystemName;
  measure: string;
  plan: Pick<LoadPlan, 'mode' | 'rate' | 'concurrency' | 'pacer'>;
  recorder: Recorder;
  windowMs: number;
  latency: ReturnType<typeof summarize>;
  curveSource: Histogram;
  serviceTime?: ReturnType<typeof summarize>;
  expectedIntervalMs?: number | undefined;
  cpu: { generator: number; server?: number | undefined; redis?: number | undefined };
}): SystemResult {
  const { plan, recorder, windowMs } = r;
  return {
    system: r.system,
    measure: r.measure,
    mode: plan.mode,
    ...(plan.mode === 'open'
      ? { rate: plan.rate, ...(plan.pacer === 'spin' ? { spin: true } : {}) }
      : { concurrency: plan.concurrency }),
    ok: recorder.ok,
    errors: recorder.errors,
    errorKinds: Object.fromEntries(recorder.errorKinds),
    throughput: Math.round((recorder.ok * 1000) / windowMs),
    windowMs: Math.round(windowMs),
    latency: r.latency,
    ...(r.serviceTime ? { serviceTime: r.serviceTime, expectedIntervalMs: r.expectedIntervalMs } : {}),
    curve: percentileCurve(r.curveSource),
    // Answers that straggle in after the window would draw a last, mostly empty bucket.
    timeline: {
      bucketMs: recorder.bucketMs,
      counts: recorder.timeline.slice(0, Math.max(1, Math.floor(windowMs / recorder.bucketMs))),
    },
    cpu: { generator: r.cpu.generator, server: r.cpu.server, redis: r.cpu.redis },
    extra: plan.mode === 'open' ? sendLateness(recorder) : {},
  };
}

/** One of several open loops run side by side (mixed-payload: small and large submits). */
export interface OpenLoad {
  system: SystemName;
  measure: string;
  rate: number;
  send: Send;
}

export interface MeasureOpenLoopsOptions {
  loads: OpenLoad[];
  durationMs: number;
  warmupMs: number;
  quiet: boolean;
  pids: { server?: number | undefined; redis?: number | undefined };
  died?: () => string | undefined;
  /** Runs between the warm-up and the measured window. */
  afterWarmup?: () => void;
}

/**
 * Runs open loops at the same time, each on its own schedule and recorder (latency from each
 * request's intended send time), after a warm-up of all of them together: one SystemResult per
 * load. The CPU columns are the whole run's, the same on every row. The progress line follows
 * the first load.
 */
export async function measureOpenLoops(options: MeasureOpenLoopsOptions): Promise<SystemResult[]> {
  const { loads, durationMs, warmupMs } = options;
  if (warmupMs > 0) {
    await Promise.all(
      loads.map((l) =>
        openLoop({
          rate: l.rate,
          durationMs: warmupMs,
          send: l.send,
          recorder: new Recorder(performance.now()),
        }),
      ),
    );
  }
  options.afterWarmup?.();
  const start = performance.now();
  const recorders = loads.map(() => new Recorder(start));
  const progress = new Progress(loads[0]?.system ?? '', recorders[0]!, durationMs, options.quiet);
  const cpu = new CpuMeter(options.pids);
  progress.start();
  let windows: number[];
  try {
    windows = (
      await Promise.all(
        loads.map((l, i) => openLoop({ rate: l.rate, durationMs, send: l.send, recorder: recorders[i]! })),
      )
    ).map((r) => r.windowMs);
  } finally {
    progress.stop();
  }
  const usage = cpu.stop();
  const death = options.died?.();
  if (death) throw new Error(`${loads[0]?.system}: ${death}`);
  return loads.map((l, i) =>
    systemResult({
      system: l.system,
      measure: l.measure,
      plan: { mode: 'open', rate: l.rate, concurrency: 0 },
      recorder: recorders[i]!,
      windowMs: windows[i]!,
      latency: summarize(recorders[i]!.histogram),
      curveSource: recorders[i]!.histogram,
      cpu: usage,
    }),
  );
}

/** The generator's own lateness at its p50 and p99, in ms (open loop). */
function sendLateness(recorder: Recorder): Record<string, number> {
  const h = recorder.sendLateness;
  if (h.totalCount === 0) return {};
  const ms = (p: number) => Math.round(h.getValueAtPercentile(p) / 10) / 100;
  return { send_late_p50_ms: ms(50), send_late_p99_ms: ms(99) };
}
