/**
 * Firings of removal timers (`ActorLogic.removalTimers`) for actors not in memory, carried out by
 * the store (`SnapshotStore.removeByTimer`) in batches instead of one activation each. Past its
 * retention, a server has an expiry due for every job it finished a retention ago; loading each
 * job, running its turn and writing its removal cost about as much as the job itself.
 *
 * While an actor's removal is in flight, a message for it waits: its cell is made but loads only
 * once the store has answered, so it finds the actor removed or as it was, never half of each.
 */
import type { ActorCell } from './cell.js';
import { PHASE_LOADING } from './cell-host.js';
import { innerMap } from './inner-map.js';
import type { TimerRef, TimerRemoval } from './store/snapshot-store.js';

export interface TimerRemovalsHost {
  remove(firings: readonly TimerRef[]): Promise<TimerRemoval[]>;
  /** The store holds the firing for its actor to judge (`held`): it is delivered as usual. */
  deliver(firing: TimerRef): void;
  /** The store could not be reached: the firing is tried again later. */
  retryLater(firing: TimerRef): void;
  /** Loads a cell that waited for its actor's removal, if it is still the actor's cell. */
  load(cell: ActorCell): void;
}

export class TimerRemovals {
  private queued: TimerRef[] = [];
  /** kind → id → the cell waiting to load once the removal settles, or null while none waits. */
  private readonly removing = new Map<string, Map<string, ActorCell | null>>();
  private pending = 0;

  constructor(private readonly host: TimerRemovalsHost) {}

  /** Firings queued or in flight: store work, like loads, for the pacing of background timers. */
  get size(): number {
    return this.pending;
  }

  /** Queues the firing; the firings of one wake of the timer heap go to the store together. */
  take(firing: TimerRef): void {
    const removing = innerMap(this.removing, firing.kind);
    if (removing.has(firing.id)) {
      // A second firing for an actor whose removal is in flight (a timer loaded twice): judged
      // after a pause, by which time the first has settled and this one is most likely stale.
      this.host.retryLater(firing);
      return;
    }
    removing.set(firing.id, null);
    this.pending++;
    if (this.queued.push(firing) === 1) queueMicrotask(() => this.flush());
  }

  /** True while the actor's removal is queued or in flight. */
  holds(kind: string, id: string): boolean {
    return this.removing.get(kind)?.has(id) === true;
  }

  /** Holds a new cell for an actor being removed: it loads once the removal settles. */
  loadAfter(cell: ActorCell): void {
    cell.phase = PHASE_LOADING;
    this.removing.get(cell.kind)!.set(cell.id, cell);
  }

  private flush(): void {
    const batch = this.queued;
    this.queued = [];
    this.host.remove(batch).then(
      (outcomes) => this.settle(batch, outcomes),
      () => this.settle(batch, null),
    );
  }

  private settle(batch: readonly TimerRef[], outcomes: TimerRemoval[] | null): void {
    this.pending -= batch.length;
    for (let i = 0; i < batch.length; i++) {
      const firing = batch[i]!;
      const removing = this.removing.get(firing.kind)!;
      const waiting = removing.get(firing.id) ?? null;
      removing.delete(firing.id);
      if (outcomes === null) this.host.retryLater(firing);
      // Delivered to the waiting cell if there is one, which then loads the actor as it was.
      else if (outcomes[i] === 'held') this.host.deliver(firing);
      if (waiting) this.host.load(waiting);
    }
  }
}
