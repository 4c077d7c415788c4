/**
 * Time is injected so that unit tests can drive timers, asks and passivation deterministically.
 */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): ClockTimer;
  clearTimeout(timer: ClockTimer): void;
}

export type ClockTimer = { readonly __clockTimer: true } | NodeJS.Timeout;

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const timer = setTimeout(fn, ms);
    // Runtime timers must never keep a process alive on their own; servers hold the loop open.
    timer.unref();
    return timer;
  },
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout),
};

interface SimulatedTimer {
  readonly __clockTimer: true;
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** A clock that only moves when told to; callbacks run in deadline order, ties in creation order. */
export class SimulatedClock implements Clock {
  private current: number;
  private seq = 0;
  private pending: SimulatedTimer[] = [];

  constructor(start = 1_700_000_000_000) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): ClockTimer {
    const timer: SimulatedTimer = {
      __clockTimer: true,
      at: this.current + Math.max(0, ms),
      seq: this.seq++,
      fn,
      cancelled: false,
    };
    this.pending.push(timer);
    return timer;
  }

  clearTimeout(timer: ClockTimer): void {
    (timer as SimulatedTimer).cancelled = true;
  }

  /** Moves time forward, running every callback that falls due on the way, in order. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      const next = this.nextDue(target);
      if (!next) break;
      this.current = Math.max(this.current, next.at);
      next.cancelled = true;
      next.fn();
    }
    this.current = target;
  }

  /** Number of timers that have not yet fired or been cleared. */
  get pendingCount(): number {
    this.pending = this.pending.filter((t) => !t.cancelled);
    return this.pending.length;
  }

  private nextDue(limit: number): SimulatedTimer | undefined {
    let best: SimulatedTimer | undefined;
    for (const timer of this.pending) {
      if (timer.cancelled || timer.at > limit) continue;
      if (!best || timer.at < best.at || (timer.at === best.at && timer.seq < best.seq)) best = timer;
    }
    if (best) this.pending = this.pending.filter((t) => t !== best);
    return best;
  }
}
