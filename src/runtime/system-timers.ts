/**
 * A system's durable timers in memory: the heap of those due soon, the parking room in front of it,
 * the periodic load of stored timers coming within the horizon, the sweep of removal timers the
 * store files apart, and the removals it carries out for actors not in memory (TimerRemovals).
 * Deadlines live in actor records; this only decides when to wake which actor, and drops the
 * firings it would ignore.
 */
import type { Logger } from 'pino';
import type { ActorCell } from './cell.js';
import { PHASE_READY } from './cell-host.js';
import type { Clock } from './clock.js';
import { DepartedTimers } from './departed-timers.js';
import { ParkedTimers } from './parked-timers.js';
import { RemovalSweep } from './removal-sweep.js';
import type { SnapshotStore, TimerRef } from './store/snapshot-store.js';
import { TimerLanes } from './timer-lanes.js';
import { TimerRemovals } from './timer-removals.js';
import { UpcomingTimers } from './upcoming-timers.js';

export interface SystemTimersOptions {
  store: SnapshotStore;
  clock: Clock;
  logger: Logger;
  horizonMs: number;
  /** The pause before arming again timers whose firing could not be handled (store down). */
  retryMs: number;
  /** How long the timers of a finished actor that left memory are remembered (see DepartedTimers). */
  departedSpanMs: number;
  /** Timers of kinds this system does not run are left to the system that does. */
  runs: (kind: string) => boolean;
  resident: (kind: string, id: string) => ActorCell | undefined;
  /** Delivers a firing to its actor. */
  fire: (kind: string, id: string, name: string, at: number) => void;
  /** Timers that can wait while the system is busy (see TimerLanes). */
  isBackground: (kind: string, name: string) => boolean;
  /** Timers whose firing the store carries out for an actor not in memory (see TimerRemovals). */
  isRemoval: (kind: string, name: string) => boolean;
  /** Loads a cell that waited for its actor's removal, if it is still the actor's cell. */
  load: (cell: ActorCell) => void;
  /** Actors being loaded now, and cells waiting for a write: what a background firing adds to. */
  loadsInFlight: () => number;
  writesWaiting: () => number;
}

/**
 * Background firings wait while this many actors are being loaded or this many cells wait for a
 * write: well above what user traffic keeps in flight at full speed (hundreds), so they hold back
 * only a backlog, such as a minute of retention expiries come due together. Each such firing costs
 * a load and a write.
 */
const BACKGROUND_LOADS_IN_FLIGHT = 512;
const BACKGROUND_WRITES_WAITING = 4_096;

export class SystemTimers {
  private readonly heap: TimerLanes;
  private readonly parked: ParkedTimers;
  private readonly upcoming: UpcomingTimers;
  private readonly departed: DepartedTimers;
  /** Null for a store that does not file removal timers apart: the heap fires them with the rest. */
  private readonly sweep: RemovalSweep | null;
  /** Null for a store that cannot remove by timer: every firing then goes to its actor. */
  private readonly removals: TimerRemovals | null;

  constructor(private readonly options: SystemTimersOptions) {
    const { store, clock, logger, horizonMs, runs } = options;
    this.departed = new DepartedTimers(clock, options.departedSpanMs);
    this.removals = store.removeByTimer
      ? new TimerRemovals({
          remove: (firings) => store.removeByTimer!(firings),
          deliver: (firing) => options.fire(firing.kind, firing.id, firing.name, firing.at),
          retryLater: (firing) => this.armLater(firing.kind, firing.id, firing.name, firing.at),
          load: options.load,
        })
      : null;
    const onDue = (entry: TimerRef) => {
      const { kind, id, name, at } = entry;
      // Dropped here rather than by the actor, it costs no envelope and no turn.
      if (this.isStale(kind, id, name, at)) return;
      if (this.removals && options.isRemoval(kind, name) && !options.resident(kind, id))
        this.removals.take(entry);
      else options.fire(kind, id, name, at);
    };
    // Removals in flight are store work like loads.
    const mayFireBackground = () =>
      options.loadsInFlight() + this.removalsPending < BACKGROUND_LOADS_IN_FLIGHT &&
      options.writesWaiting() < BACKGROUND_WRITES_WAITING;
    this.heap = new TimerLanes(clock, onDue, horizonMs, options.isBackground, mayFireBackground);
    this.sweep = store.loadRemovalTimers
      ? new RemovalSweep({
          load: (until, after, limit) => store.loadRemovalTimers!(until, after, limit),
          clock,
          logger,
          fire: onDue,
          mayFire: mayFireBackground,
          runs,
        })
      : null;
    // Every reliable send sets a redelivery timer that its confirmation almost always cancels
    // within milliseconds; parked, those never reach the heap (about nine per diamond workflow).
    this.parked = new ParkedTimers(clock, this.heap, (kind, id, name, at) =>
      this.isStale(kind, id, name, at),
    );
    this.upcoming = new UpcomingTimers(store, clock, logger, this.heap, horizonMs, runs);
  }

  /** Removal firings queued for the store or in flight there. */
  get removalsPending(): number {
    return this.removals?.size ?? 0;
  }

  /** True while the store is removing the actor: a new cell for it must wait (`loadAfterRemoval`). */
  removing(kind: string, id: string): boolean {
    return this.removals?.holds(kind, id) === true;
  }

  /** Holds a new cell for an actor being removed: it loads once the removal settles. */
  loadAfterRemoval(cell: ActorCell): void {
    this.removals!.loadAfter(cell);
  }

  /** Timers held in memory: in the heap or parked. */
  get size(): number {
    return this.heap.size + this.parked.size;
  }

  start(): void {
    this.upcoming.start();
    this.sweep?.start();
  }

  stop(): void {
    this.upcoming.stop();
    this.sweep?.stop();
    this.heap.stop();
    this.parked.stop();
    this.departed.stop();
  }

  /**
   * Loads the stored timers due within the horizon and starts firing the overdue ones (paced:
   * TimerHeap), and sweeps the overdue removal timers where the store files them apart.
   */
  async recover(): Promise<number> {
    const loaded = await this.upcoming.load();
    this.heap.fireDue();
    this.sweep?.sweep();
    return loaded;
  }

  /** True when the firing is held in memory; later ones are loaded from the store when near. */
  arm(cell: ActorCell, name: string, at: number): boolean {
    return this.parked.arm(cell.kind, cell.id, name, at);
  }

  /**
   * A finished cell leaves memory with firings it armed still to come (`lastFiringAt`): its timers
   * are remembered so those firings are judged without loading it. False when they come too late
   * to be remembered; the cell then stays until the idle sweep.
   */
  depart(cell: ActorCell, lastFiringAt: number): boolean {
    return this.departed.depart(cell.key, cell.rec.timers, lastFiringAt);
  }

  /** An actor is back in memory: its cell judges its own firings. */
  returned(cell: ActorCell): void {
    // Checked first: the cell's key is built on first use, and most cells never need it.
    if (this.departed.size > 0) this.departed.returned(cell.key);
  }

  /** Arms the cell's timers again after a pause (a reverted turn may have consumed a firing). */
  rearmLater(cell: ActorCell): void {
    // After a pause, not at once: an overdue timer re-armed now would fire, fail and re-arm in a
    // tight loop for as long as the store is down. Heap entries that are still armed are not
    // duplicated, and a firing that is no longer current is dropped as stale.
    this.options.clock.setTimeout(() => {
      const timers = cell.rec.timers;
      if (timers) for (const name in timers) this.heap.arm(cell.kind, cell.id, name, timers[name]!.at);
    }, this.options.retryMs);
  }

  /** Arms one firing again after a pause: its actor could not be loaded to take it. */
  armLater(kind: string, id: string, name: string, at: number): void {
    this.options.clock.setTimeout(() => this.heap.arm(kind, id, name, at), this.options.retryMs);
  }

  /**
   * The actor is in memory with nothing to write (or left memory finished), and its record no
   * longer has this timer at this deadline: the firing would be dropped by the actor anyway. Not
   * for an actor with a write pending or in flight: a failed write reverts the record, maybe to
   * one that still has the timer.
   */
  private isStale(kind: string, id: string, name: string, at: number): boolean {
    const cell = this.options.resident(kind, id);
    if (!cell) return this.departed.isStale(kind, id, name, at) === true;
    return cell.phase === PHASE_READY && !cell.isDirty && cell.rec.timers?.[name]?.at !== at;
  }
}
