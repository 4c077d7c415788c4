/**
 * The two ways the harness drives load, both recording into a Recorder:
 * - open loop (`--rate`): requests are scheduled at fixed intended times, start + i/rate, and
 *   sent whether or not earlier ones have answered. Latency is measured from the intended send
 *   time, not the moment the generator got round to sending, so a stall in the server (or in the
 *   generator) shows up as the queueing delay every user scheduled during it would have felt.
 *   This is the coordinated-omission correction proper (wrk2's approach).
 * - closed loop (`--connections`): N workers each send, wait, send again: the most throughput the
 *   system gives. A stall also stalls the workers, so the raw histogram under-counts slow periods;
 *   the summary uses a copy corrected after the fact with the mean per-worker interval as the
 *   expected interval (HdrHistogram's copyCorrectedForCoordinatedOmission), and the raw service
 *   times are kept beside it.
 * The clock is passed in so the unit tests can drive both loops on virtual time.
 */
import { correctedCopy, type Histogram, latencyHistogram, recordMs } from './histogram.js';

export interface Clock {
  /** Milliseconds since an arbitrary origin. */
  now(): number;
  /** Resolves at or after `at` (same origin as now()). */
  sleepUntil(at: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => performance.now(),
  sleepUntil: (at) =>
    new Promise((resolve) => {
      const wait = at - performance.now();
      // Never spin on setImmediate for sub-millisecond waits: on a 2-core machine a spinning
      // generator takes the core the server needs. A timer (at least 1 ms) sends the requests that
      // fell due meanwhile together; latency still counts from each one's intended time.
      if (wait <= 0) setImmediate(resolve);
      else setTimeout(resolve, Math.max(1, Math.floor(wait)));
    }),
};

/**
 * Sends on time: polls the clock between sends with setImmediate (I/O still runs between polls),
 * so requests leave within microseconds of their intended time. The price is a core kept busy,
 * which on two cores is one the server would otherwise have: a choice for latency runs at rates
 * the rest of the machine can carry on one core (`--pacer spin`).
 */
export const spinClock: Clock = {
  now: () => performance.now(),
  sleepUntil: (at) =>
    new Promise((resolve) => {
      const poll = (): void => {
        if (performance.now() >= at) resolve();
        else setImmediate(poll);
      };
      poll();
    }),
};

/** What one request reported: ok, or an error kind ("http 503", "ECONNREFUSED", …). */
export type Outcome = true | string;

/** Latency, errors and a throughput timeline of one measured run. */
export class Recorder {
  readonly histogram: Histogram = latencyHistogram();
  /**
   * Open loop: how late the generator itself sent each request (its timers have a 1 ms grain).
   * Part of every latency measured from the intended time; shown so it can be told apart.
   */
  readonly sendLateness: Histogram = latencyHistogram();
  ok = 0;
  errors = 0;
  readonly errorKinds = new Map<string, number>();
  /** Successful completions per bucket of `bucketMs`, from the start of the run. */
  readonly timeline: number[] = [];
  inFlight = 0;
  started = 0;

  constructor(
    readonly startMs: number,
    readonly bucketMs = 500,
  ) {}

  record(outcome: Outcome, latencyMs: number, atMs: number): void {
    if (outcome === true) {
      this.ok++;
      recordMs(this.histogram, latencyMs);
      const bucket = Math.max(0, Math.floor((atMs - this.startMs) / this.bucketMs));
      while (this.timeline.length <= bucket) this.timeline.push(0);
      this.timeline[bucket]!++;
    } else {
      this.errors++;
      this.errorKinds.set(outcome, (this.errorKinds.get(outcome) ?? 0) + 1);
    }
  }
}

export type Send = (index: number) => Promise<Outcome>;

export interface OpenLoopOptions {
  rate: number;
  durationMs: number;
  send: Send;
  recorder: Recorder;
  clock?: Clock;
  /**
   * Past this many unanswered requests the generator waits for one to finish before sending the
   * next (memory stays bounded); latency is still measured from each request's intended time.
   */
  maxInFlight?: number;
}

export interface LoopResult {
  /** From the first intended send to the last answer. */
  elapsedMs: number;
  /** From the first send to the end of the sending window (what throughput is computed over). */
  windowMs: number;
  sent: number;
}

export async function openLoop(options: OpenLoopOptions): Promise<LoopResult> {
  const clock = options.clock ?? realClock;
  const { recorder, send, rate, durationMs } = options;
  const interval = 1000 / rate;
  const total = Math.max(1, Math.floor((durationMs / 1000) * rate));
  const maxInFlight = options.maxInFlight ?? Math.max(1_000, Math.ceil(rate * 2));
  const start = clock.now();
  const pending = new Set<Promise<void>>();
  let sent = 0;

  const fire = (index: number, intended: number): void => {
    recorder.inFlight++;
    recorder.started++;
    recordMs(recorder.sendLateness, Math.max(0, clock.now() - intended));
    const done = send(index).then(
      (outcome) => outcome,
      (error: unknown) => errorKind(error),
    );
    const settled = done.then((outcome) => {
      recorder.inFlight--;
      const at = clock.now();
      recorder.record(outcome, at - intended, at);
      pending.delete(settled);
    });
    pending.add(settled);
  };

  while (sent < total) {
    const due = Math.min(total, Math.floor((clock.now() - start) / interval) + 1);
    while (sent < due) {
      if (pending.size >= maxInFlight) await Promise.race(pending);
      fire(sent, start + sent * interval);
      sent++;
    }
    if (sent < total) await clock.sleepUntil(start + sent * interval);
  }
  const windowMs = Math.max(clock.now() - start, durationMs);
  await Promise.all(pending);
  return { elapsedMs: clock.now() - start, windowMs, sent };
}

export interface ClosedLoopOptions {
  connections: number;
  durationMs: number;
  send: Send;
  recorder: Recorder;
  clock?: Clock;
}

export interface ClosedLoopResult extends LoopResult {
  /** Raw time from send to answer, uncorrected. */
  serviceTime: Histogram;
  /** The interval the correction assumed (mean time between one worker's sends), in ms. */
  expectedIntervalMs: number;
  /** The summary histogram: serviceTime corrected for coordinated omission. */
  corrected: Histogram;
}

export async function closedLoop(options: ClosedLoopOptions): Promise<ClosedLoopResult> {
  const clock = options.clock ?? realClock;
  const { recorder, send, connections, durationMs } = options;
  const start = clock.now();
  const end = start + durationMs;
  let index = 0;
  const worker = async (): Promise<void> => {
    while (clock.now() < end) {
      const sentAt = clock.now();
      recorder.inFlight++;
      recorder.started++;
      let outcome: Outcome;
      try {
        outcome = await send(index++);
      } catch (error) {
        outcome = errorKind(error);
      }
      recorder.inFlight--;
      const at = clock.now();
      recorder.record(outcome, at - sentAt, at);
      // A worker whose requests fail at once must not spin the CPU the server needs.
      if (outcome !== true) await clock.sleepUntil(at + 1);
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  const elapsedMs = clock.now() - start;
  const completed = recorder.ok + recorder.errors;
  const expectedIntervalMs = completed > 0 ? (elapsedMs * connections) / completed : 0;
  return {
    elapsedMs,
    windowMs: elapsedMs,
    sent: index,
    serviceTime: recorder.histogram,
    expectedIntervalMs,
    corrected: correctedCopy(recorder.histogram, expectedIntervalMs),
  };
}

/** A short, stable label for a failed request, for the error breakdown. */
export function errorKind(error: unknown): string {
  if (error && typeof error === 'object') {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const cause = (error as { cause?: { code?: unknown } }).cause;
    if (cause && typeof cause.code === 'string') return cause.code;
  }
  return error instanceof Error ? error.name : 'error';
}
