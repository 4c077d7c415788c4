/**
 * Which actors are in memory: the cells by kind and id, the idle list of each kind, and the
 * periodic sweep that passivates cells idle for their kind's time. Deferred changes are written
 * before a cell may leave.
 */
import type { ActorCell } from './cell.js';
import type { Clock, ClockTimer } from './clock.js';
import { IdleList } from './passivation.js';

/** Sweeps for idle actors at least this often (also when every kind stays in memory). */
const MAX_SWEEP_INTERVAL_MS = 60_000;

export class Residency {
  private readonly cells = new Map<string, Map<string, ActorCell>>();
  private readonly idleLists = new Map<string, IdleList>();
  private sweepTimer: ClockTimer | null = null;
  private sweepEvery = Number.POSITIVE_INFINITY;
  private stopped = false;
  private resident = 0;

  constructor(
    private readonly clock: Clock,
    private readonly defaultIdleMs: number,
  ) {}

  /** Cells in memory. */
  get count(): number {
    return this.resident;
  }

  addKind(kind: string, idleMs: number): void {
    this.cells.set(kind, new Map());
    this.idleLists.set(kind, new IdleList(idleMs));
    // A kind that passivates sooner than the sweep already armed needs an earlier sweep.
    if (this.sweepTimer && this.sweepInterval() < this.sweepEvery) {
      this.clock.clearTimeout(this.sweepTimer);
      this.armSweep();
    }
  }

  /** The cells of a kind by id, or undefined for a kind never registered. */
  cellsOf(kind: string): Map<string, ActorCell> | undefined {
    return this.cells.get(kind);
  }

  get(kind: string, id: string): ActorCell | undefined {
    return this.cells.get(kind)?.get(id);
  }

  /** A new cell, active as of `now`. */
  admit(cell: ActorCell, now: number): void {
    this.cells.get(cell.kind)!.set(cell.id, cell);
    this.resident++;
    cell.lastActive = now;
    this.idleLists.get(cell.kind)!.add(cell, now);
  }

  /** Takes the cell out of memory (a no-op when another cell already took its place). */
  evict(cell: ActorCell): void {
    const cells = this.cells.get(cell.kind)!;
    if (cells.get(cell.id) !== cell) return;
    cells.delete(cell.id);
    this.idleLists.get(cell.kind)!.remove(cell);
    this.resident--;
  }

  *all(): Iterable<ActorCell> {
    for (const cells of this.cells.values()) yield* cells.values();
  }

  /** Passivates every cell idle for its kind's time that can leave without losing anything. */
  sweep(): void {
    const now = this.clock.now();
    for (const [kind, list] of this.idleLists) {
      const cells = this.cells.get(kind)!;
      list.sweep(now, (cell) => {
        if (!cell.canPassivate) {
          // Deferred changes are written first; the cell leaves memory on a later sweep.
          cell.writeUnwritten();
          return false;
        }
        list.remove(cell);
        cells.delete(cell.id);
        this.resident--;
        return true;
      });
    }
  }

  start(): void {
    this.armSweep();
  }

  stop(): void {
    this.stopped = true;
    if (this.sweepTimer) this.clock.clearTimeout(this.sweepTimer);
    this.sweepTimer = null;
  }

  /**
   * A tenth of the shortest idle time: a cell stays at most a tenth past its own, and each sweep
   * passivates a tenth of what arrived in the meantime. Swept every half idle time instead, jobs
   * at 40k/s went 200,000 at a time, a 10 s idle time kept up to 15 s of them resident, and the
   * longest event-loop stall was twice as long (docs/benchmarks.md §12).
   */
  private sweepInterval(): number {
    const finite = [...this.idleLists.values()].map((list) => list.idleMs).filter(Number.isFinite);
    // Capped: with no finite idle time the minimum is Infinity, which setTimeout turns into 1 ms.
    return Math.min(MAX_SWEEP_INTERVAL_MS, Math.max(50, Math.min(this.defaultIdleMs, ...finite) / 10));
  }

  private armSweep(): void {
    if (this.stopped) return;
    this.sweepEvery = this.sweepInterval();
    this.sweepTimer = this.clock.setTimeout(() => {
      this.sweep();
      this.armSweep();
    }, this.sweepEvery);
  }
}
