/**
 * Keeps the timer heap stocked with the store's timers due within the horizon: once at recovery,
 * then every half horizon, so a timer set further out (durable in the store's index from its
 * write on) is in memory at least half a horizon before it is due. The heap drops deadlines past
 * the horizon, so memory holds what is due soon, not a day of retention timers.
 */
import type { Logger } from 'pino';
import type { Clock, ClockTimer } from './clock.js';
import type { SnapshotStore } from './store/snapshot-store.js';
import type { TimerArming } from './timer-lanes.js';

/**
 * Each load reads from a little before where the previous one ended: a timer written while that
 * load ran (a write may take up to the store's command timeout) is not missed.
 */
const OVERLAP_MS = 10_000;

/**
 * Timers armed between two yields to the event loop. Arming costs a few microseconds each (map
 * lookups and entries, a heap push), and a server past its retention loads a minute of retention timers
 * at once: half a million took 1.8 s to arm, a stall of the whole server (docs/benchmarks.md §20).
 */
const ARMS_PER_SLICE = 2_000;

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export class UpcomingTimers {
  private timer: ClockTimer | null = null;
  private stopped = false;
  /** The previous load covered every deadline up to here (none yet: from the beginning). */
  private loadedUntil = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly store: SnapshotStore,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly heap: TimerArming,
    private readonly horizonMs: number,
    /** Timers of kinds this system does not run are left to the system that does. */
    private readonly runs: (kind: string) => boolean,
  ) {}

  /** Arms every stored timer due within the horizon (already armed ones are not duplicated). */
  async load(): Promise<number> {
    const until = this.clock.now() + this.horizonMs;
    const after = this.loadedUntil - OVERLAP_MS;
    // Only the deadlines that came within reach since the previous load (a timer set nearer than
    // the horizon was armed when it was set); the first load, at recovery, reads everything due.
    const timers = await this.store.loadTimers(until, Number.isFinite(after) ? after : undefined);
    for (let i = 0; i < timers.length; i++) {
      if (i > 0 && i % ARMS_PER_SLICE === 0) {
        await yieldToLoop();
        if (this.stopped) return i;
      }
      const timer = timers[i]!;
      if (this.runs(timer.kind)) this.heap.arm(timer.kind, timer.id, timer.name, timer.at);
    }
    this.loadedUntil = until;
    return timers.length;
  }

  /** Loads again every half horizon until stopped; a failed load is retried at the next one. */
  start(): void {
    if (!Number.isFinite(this.horizonMs) || this.stopped) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      if (this.stopped) return;
      this.load().then(
        () => this.start(),
        (error: unknown) => {
          this.logger.warn({ err: error }, 'could not load upcoming timers from the store; trying again');
          this.start();
        },
      );
    }, this.horizonMs / 2);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }
}
