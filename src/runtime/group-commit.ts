/**
 * Group commit: the cells dirtied during a scheduler turn are written together, in store calls of
 * at most `maxWritesPerCommit` actors, and every effect waiting on one call's writes is released
 * when the store answers it. Several calls may be in flight at once (the store applies them in
 * order on its connection); an actor is in at most one of them, and actors dirtied while their own
 * write is in flight join a later batch once it settles.
 *
 * Why a cap: one call per turn made the batches as large as the load (hundreds of actors), and
 * the event loop and the store then took turns: the store ran a long script while the loop waited
 * for its answer, then the loop handled hundreds of answers while the store waited for the next
 * call. In calls of a few dozen actors, the first answers come back while the store works on the
 * rest, and both stay busy (docs/benchmarks.md §12: echo jobs on Redis 26k → 43k/s).
 */
import { MailroomError, toMailroomError } from '../errors.js';
import type { ActorCell } from './cell.js';
import type { CommitEntry, SnapshotStore } from './store/snapshot-store.js';

export interface CommitStats {
  commits: number;
  writes: number;
  failures: number;
}

export class GroupCommit {
  /** Cells waiting for a write, oldest first, from `dirtyHead` on. */
  private dirty: ActorCell[] = [];
  private dirtyHead = 0;
  private inFlight = 0;
  readonly stats: CommitStats = { commits: 0, writes: 0, failures: 0 };

  constructor(
    private readonly store: SnapshotStore,
    private readonly onSettled: (error: MailroomError | null) => void,
    private readonly maxInFlight = 8,
    private readonly maxWritesPerCommit = 64,
  ) {}

  get idle(): boolean {
    return this.inFlight === 0 && this.dirtyHead === this.dirty.length;
  }

  /** Cells waiting for a store call to take them. */
  get waiting(): number {
    return this.dirty.length - this.dirtyHead;
  }

  get busy(): boolean {
    return this.inFlight > 0;
  }

  add(cell: ActorCell): void {
    if (cell.inDirtyList) return;
    cell.inDirtyList = true;
    this.dirty.push(cell);
  }

  /** Starts store calls for the waiting cells while fewer than `maxInFlight` are outstanding. */
  flush(): void {
    while (this.inFlight < this.maxInFlight && this.dirtyHead < this.dirty.length) this.commitNext();
    if (this.dirtyHead === this.dirty.length) {
      this.dirty = [];
      this.dirtyHead = 0;
    } else if (this.dirtyHead > 1024 && this.dirtyHead * 2 > this.dirty.length) {
      // Under sustained load the list may never drain: drop the written prefix now and then.
      this.dirty = this.dirty.slice(this.dirtyHead);
      this.dirtyHead = 0;
    }
  }

  private commitNext(): void {
    const cells: ActorCell[] = [];
    const entries: CommitEntry[] = [];
    const dirty = this.dirty;
    while (this.dirtyHead < dirty.length && entries.length < this.maxWritesPerCommit) {
      const cell = dirty[this.dirtyHead]!;
      this.dirtyHead++;
      cell.inDirtyList = false;
      // Its own write is still in flight: it re-marks itself dirty when that one settles.
      if (cell.isCommitting) continue;
      const entry = cell.beginCommit();
      if (entry) {
        cells.push(cell);
        entries.push(entry);
      }
    }
    if (entries.length === 0) return;
    this.inFlight++;
    this.store.commit(entries).then(
      (receipt) => {
        this.inFlight--;
        this.stats.commits++;
        this.stats.writes += entries.length;
        let offset = 0;
        for (const cell of cells) {
          const count = cell.committingEventCount;
          cell.commitSucceeded(count === 0 ? [] : receipt.eventSeqs.slice(offset, offset + count));
          offset += count;
        }
        this.onSettled(null);
      },
      (cause: unknown) => {
        this.inFlight--;
        this.stats.failures++;
        const error =
          cause instanceof MailroomError && cause.code === 'STORE_UNAVAILABLE'
            ? cause
            : new MailroomError('STORE_UNAVAILABLE', toMailroomError(cause).message, { cause });
        for (const cell of cells) cell.commitFailed(error);
        this.onSettled(error);
      },
    );
  }
}
