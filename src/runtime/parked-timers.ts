/**
 * A waiting room in front of the timer heap for timers set well ahead of their deadline. Most of
 * them are gone long before they are due: every reliable send sets a redelivery timer two seconds
 * out that the receiver's confirmation cancels within milliseconds. In the heap each cost a keyed
 * entry when set and a pop when due (with the stale firing dropped then); parked, it costs an
 * array slot. Every `sweepMs` the room is emptied: timers that are no longer current are dropped,
 * the rest go into the heap. A timer is parked only if it is due at least `sweepMs` after it was
 * set, so the sweep that takes it always comes before its deadline.
 */
import type { Clock, ClockTimer } from './clock.js';
import type { TimerArming } from './timer-lanes.js';

export class ParkedTimers {
  private kinds: string[] = [];
  private ids: string[] = [];
  private names: string[] = [];
  private deadlines: number[] = [];
  private sweepTimer: ClockTimer | null = null;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly heap: TimerArming,
    /** True when the actor's current record no longer has this timer at this deadline. */
    private readonly isStale: (kind: string, id: string, name: string, at: number) => boolean,
    readonly sweepMs = 500,
  ) {}

  get size(): number {
    return this.deadlines.length;
  }

  /**
   * Arms a timer: parked when it is due a sweep or more from now, else straight into the heap.
   * False when it is beyond the heap's horizon (the store's timer index holds it until then).
   */
  arm(kind: string, id: string, name: string, at: number): boolean {
    if (this.stopped || !this.heap.withinHorizon(at)) return false;
    if (at - this.clock.now() < this.sweepMs) {
      this.heap.arm(kind, id, name, at);
      return true;
    }
    this.kinds.push(kind);
    this.ids.push(id);
    this.names.push(name);
    this.deadlines.push(at);
    this.sweepTimer ??= this.clock.setTimeout(this.sweep, this.sweepMs);
    return true;
  }

  stop(): void {
    this.stopped = true;
    if (this.sweepTimer) this.clock.clearTimeout(this.sweepTimer);
    this.sweepTimer = null;
  }

  private readonly sweep = (): void => {
    this.sweepTimer = null;
    const { kinds, ids, names, deadlines } = this;
    this.kinds = [];
    this.ids = [];
    this.names = [];
    this.deadlines = [];
    for (let i = 0; i < deadlines.length; i++) {
      const kind = kinds[i]!;
      const id = ids[i]!;
      const name = names[i]!;
      const at = deadlines[i]!;
      if (!this.isStale(kind, id, name, at)) this.heap.arm(kind, id, name, at);
    }
  };
}
