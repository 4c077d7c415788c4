/**
 * The timers of finished actors that left memory while firings they armed were still to come.
 * Firings are never withdrawn (a cancelled or moved timer is dropped as stale when it fires), and
 * judging one stale needs the actor's record: without this, each such firing loaded its actor back
 * from the store just to drop it, or the actor had to stay in memory until its last firing (two
 * seconds for every step of a workflow: the redelivery timer of its confirmed `step_finished`).
 *
 * A departed actor's timers are what its durable record holds, since it left with nothing
 * unwritten. Entries live in two generations swapped every `spanMs`, so each lasts between one and
 * two spans; only actors whose firings all come within half a span are recorded.
 */
import type { Clock, ClockTimer } from './clock.js';
import type { TimerEntry } from './store/snapshot-store.js';

type Timers = Readonly<Record<string, TimerEntry>> | null;

export class DepartedTimers {
  private young = new Map<string, Timers>();
  private old = new Map<string, Timers>();
  private rotateTimer: ClockTimer | null = null;

  constructor(
    private readonly clock: Clock,
    readonly spanMs: number,
  ) {}

  get size(): number {
    return this.young.size + this.old.size;
  }

  /** Records the timers of an actor leaving memory; false if its last firing is too far off. */
  depart(key: string, timers: Timers, lastFiringAt: number): boolean {
    // Half a span: a firing that comes a little late (a busy event loop) still finds the entry.
    if (lastFiringAt > this.clock.now() + this.spanMs / 2) return false;
    // An entry of this actor in the old generation needs no removal: the young one shadows it.
    this.young.set(key, timers);
    this.rotateTimer ??= this.clock.setTimeout(this.rotate, this.spanMs);
    return true;
  }

  /** The actor is back in memory: its cell judges its firings again. */
  returned(key: string): void {
    this.young.delete(key);
    this.old.delete(key);
  }

  /** True when the actor departed without this timer at this deadline; undefined if it is not known here. */
  isStale(kind: string, id: string, name: string, at: number): boolean | undefined {
    if (this.young.size === 0 && this.old.size === 0) return undefined;
    const key = `${kind}:${id}`;
    // Entries are never undefined (an actor without timers has null), so a miss is a miss.
    const young = this.young.get(key);
    const timers = young !== undefined ? young : this.old.get(key);
    if (timers === undefined) return undefined;
    return timers?.[name]?.at !== at;
  }

  stop(): void {
    if (this.rotateTimer) this.clock.clearTimeout(this.rotateTimer);
    this.rotateTimer = null;
  }

  private readonly rotate = (): void => {
    this.rotateTimer = null;
    this.old = this.young;
    this.young = new Map();
    if (this.old.size > 0) this.rotateTimer = this.clock.setTimeout(this.rotate, this.spanMs);
  };
}
