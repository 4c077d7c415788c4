/**
 * Group commit: every cell dirtied during a scheduler turn is written in one store call, and every
 * effect waiting on those writes is released together when the store answers. A few commits may be
 * in flight at once (the store applies them in order on its connection), so the write path is not
 * bound by one round trip; an actor is in at most one of them, and actors dirtied while their own
 * write is in flight join a later batch once it settles. Batches grow with load.
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
  private dirty: ActorCell[] = [];
  private inFlight = 0;
  readonly stats: CommitStats = { commits: 0, writes: 0, failures: 0 };

  constructor(
    private readonly store: SnapshotStore,
    private readonly onSettled: (error: MailroomError | null) => void,
    private readonly maxInFlight = 4,
  ) {}

  get idle(): boolean {
    return this.inFlight === 0 && this.dirty.length === 0;
  }

  get busy(): boolean {
    return this.inFlight > 0;
  }

  add(cell: ActorCell): void {
    if (cell.inDirtyList) return;
    cell.inDirtyList = true;
    this.dirty.push(cell);
  }

  flush(): void {
    if (this.inFlight >= this.maxInFlight || this.dirty.length === 0) return;
    const batch = this.dirty;
    this.dirty = [];
    const cells: ActorCell[] = [];
    const entries: CommitEntry[] = [];
    for (const cell of batch) {
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
