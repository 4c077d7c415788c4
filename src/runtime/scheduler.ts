/**
 * The run queue. Runnables with work are queued once; a turn drains the queue until a message or
 * time budget is spent, then yields to I/O with setImmediate so sockets stay served under load.
 * After every turn the `afterTurn` hook runs (the group commit of everything dirtied in the turn).
 */
import { Queue } from './mailbox.js';

export interface Runnable {
  /** Set by the scheduler while the runnable sits in the run queue. */
  queued: boolean;
  /** Processes up to `max` messages; returns how many it processed. */
  runSlice(max: number): number;
  /** True when it still has messages it can process now. */
  hasWork(): boolean;
}

/**
 * Wall time per turn before yielding to I/O. The group commit of a turn goes out when the turn
 * ends, so the budget weighs how soon sockets are served against how many of an actor's turns
 * share one write.
 */
export const TURN_MICROS = 1_000;
/**
 * The budget while saturated (the turn before ended with work left) and writes are dear (a durable
 * store). Requests wait in queues then anyway, and a longer turn lets a job be created, leased,
 * run and finished before its first write goes out: an echo job on Redis took 1.3–2.1 writes at
 * 1 ms and 1.0 at 4 ms, a diamond 22.5 and 15–18, for 3–20 % more throughput (docs/benchmarks.md
 * §17). Not below saturation: at 2k jobs/s, 4-ms turns took the p99 of submit → completion from
 * 11–12 to 16–23 ms. Not with the embedded store, whose writes cost little: there it took 2–5 %
 * less CPU per job but 3–7 % less throughput. Longer still once made batches move in waves, Redis
 * and Node taking turns (8 ms, before commits went out in calls of at most 64 actors).
 */
export const DURABLE_BUSY_TURN_MICROS = 4_000;

export interface SchedulerOptions {
  /** Messages one runnable may process before the next gets a go (fairness). */
  throughput?: number;
  /** Messages per turn before yielding to I/O. */
  turnMessages?: number;
  /** Wall time per turn before yielding to I/O (TURN_MICROS when absent). */
  turnMicros?: number;
  /** Wall time per turn while saturated (`turnMicros` when absent). */
  busyTurnMicros?: number;
  /** Milliseconds, for the time budget (`performance.now` when absent; tests pass their own). */
  now?: () => number;
  afterTurn: () => void;
}

export class Scheduler {
  private readonly runQueue = new Queue<Runnable>();
  private readonly throughput: number;
  private readonly turnMessages: number;
  private readonly turnMicros: number;
  private readonly busyTurnMicros: number;
  private readonly now: () => number;
  /** The last turn ended with runnables still queued: it was cut short by a budget. */
  private saturated = false;
  private readonly afterTurn: () => void;
  private turnPending = false;
  private inTurn = false;
  /** Total messages processed, for metrics and benches. */
  processed = 0;

  constructor(options: SchedulerOptions) {
    this.throughput = options.throughput ?? 64;
    this.turnMessages = options.turnMessages ?? 20_000;
    this.turnMicros = options.turnMicros ?? TURN_MICROS;
    this.busyTurnMicros = options.busyTurnMicros ?? this.turnMicros;
    this.now = options.now ?? (() => performance.now());
    this.afterTurn = options.afterTurn;
  }

  get queuedCount(): number {
    return this.runQueue.length;
  }

  schedule(runnable: Runnable): void {
    if (runnable.queued) return;
    runnable.queued = true;
    this.runQueue.push(runnable);
    this.requestTurn();
  }

  /** Ensures a turn runs soon even if nothing is queued (so afterTurn gets to flush). */
  requestTurn(): void {
    if (this.turnPending || this.inTurn) return;
    this.turnPending = true;
    setImmediate(this.turn);
  }

  private readonly turn = (): void => {
    this.turnPending = false;
    this.inTurn = true;
    const started = this.now();
    const micros = this.saturated ? this.busyTurnMicros : this.turnMicros;
    let budget = this.turnMessages;
    try {
      while (budget > 0) {
        const runnable = this.runQueue.shift();
        if (!runnable) break;
        runnable.queued = false;
        const done = runnable.runSlice(Math.min(this.throughput, budget));
        budget -= done > 0 ? done : 1;
        this.processed += done;
        if (runnable.hasWork()) {
          runnable.queued = true;
          this.runQueue.push(runnable);
        }
        // Reading the clock costs; check it only every few hundred messages.
        if ((budget & 0xff) < this.throughput && (this.now() - started) * 1000 > micros) break;
      }
    } finally {
      this.inTurn = false;
      this.saturated = this.runQueue.length > 0;
      this.afterTurn();
      if (this.runQueue.length > 0) this.requestTurn();
    }
  };
}
