/**
 * Removal timers that the store files apart (`SnapshotStore.useRemovalTimers`) come due through
 * this sweep, not through the timer heap: every second it reads the due ones in pages, after a
 * cursor, and hands each on like a heap firing. Past its retention, a server has a retention
 * expiry filed for every job of the last day; loaded with the other timers, a minute of them was
 * in memory at any time (a heap of 1.1–1.3 GB at 15k jobs/s), each armed, then fired.
 *
 * The cursor only moves forward, so a removal timer filed behind it is not read: one due by the
 * time it is written. Its actor was in memory to write it and armed it in the heap then, as every
 * timer due within the horizon is; the sweep is for the ones that were not.
 */
import type { Logger } from 'pino';
import type { Clock, ClockTimer } from './clock.js';
import type { TimerRef } from './store/snapshot-store.js';
import { BUSY_RECHECK_MS, FIRINGS_PER_WAKE } from './timers.js';

/** How often due removal timers are looked for: a removal may come this late. */
export const SWEEP_EVERY_MS = 1_000;

export interface RemovalSweepOptions {
  load(until: number, after: TimerRef | null, limit: number): Promise<TimerRef[]>;
  clock: Clock;
  logger: Logger;
  /** Hands a due timer on, as the heap hands on its firings. */
  fire(timer: TimerRef): void;
  /** False while the system is too busy for background firings: the sweep waits. */
  mayFire(): boolean;
  /** Timers of kinds this system does not run are left to the system that does. */
  runs(kind: string): boolean;
}

export class RemovalSweep {
  /** The last timer handed on; none yet: from the earliest. */
  private cursor: TimerRef | null = null;
  private timer: ClockTimer | null = null;
  private sweeping = false;
  private stopped = false;

  constructor(private readonly options: RemovalSweepOptions) {}

  start(): void {
    this.schedule(SWEEP_EVERY_MS);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) this.options.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  /** Hands on every removal timer due now, page by page as the system allows, then sweeps again later. */
  sweep(): void {
    if (this.sweeping || this.stopped) return;
    if (this.timer) this.options.clock.clearTimeout(this.timer);
    this.timer = null;
    this.sweeping = true;
    this.nextPage().then(
      (more) => {
        this.sweeping = false;
        this.schedule(more ? BUSY_RECHECK_MS : SWEEP_EVERY_MS);
      },
      (error: unknown) => {
        this.sweeping = false;
        this.options.logger.warn({ err: error }, 'could not read due removal timers; trying again');
        this.schedule(SWEEP_EVERY_MS);
      },
    );
  }

  /** Reads and hands on pages (a heap wake's worth each) while the system allows; true when due timers are left for later. */
  private async nextPage(): Promise<boolean> {
    const { clock, fire, runs } = this.options;
    for (;;) {
      if (this.stopped) return false;
      if (!this.options.mayFire()) return true;
      const page = await this.options.load(clock.now(), this.cursor, FIRINGS_PER_WAKE);
      if (this.stopped) return false;
      for (const timer of page) if (runs(timer.kind)) fire(timer);
      if (page.length > 0) this.cursor = page[page.length - 1]!;
      if (page.length < FIRINGS_PER_WAKE) return false;
    }
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = null;
      this.sweep();
    }, ms);
  }
}
