/**
 * Keeps the timer heap stocked with the store's timers due within the horizon: once at recovery,
 * then every half horizon, so a timer set further out (durable in the store's index from its
 * write on) is in memory at least half a horizon before it is due. The heap drops deadlines past
 * the horizon, so memory holds what is due soon, not a day of retention timers.
 */
import type { Logger } from 'pino';
import type { Clock, ClockTimer } from './clock.js';
import type { SnapshotStore } from './store/snapshot-store.js';
import type { TimerHeap } from './timers.js';

export class UpcomingTimers {
  private timer: ClockTimer | null = null;
  private stopped = false;

  constructor(
    private readonly store: SnapshotStore,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly heap: TimerHeap,
    private readonly horizonMs: number,
    /** Timers of kinds this system does not run are left to the system that does. */
    private readonly runs: (kind: string) => boolean,
  ) {}

  /** Arms every stored timer due within the horizon (already armed ones are not duplicated). */
  async load(): Promise<number> {
    const timers = await this.store.loadTimers(this.clock.now() + this.horizonMs);
    for (const timer of timers) {
      if (this.runs(timer.kind)) this.heap.arm(timer.kind, timer.id, timer.name, timer.at);
    }
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
