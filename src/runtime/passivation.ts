/**
 * Which actors may leave memory. One list per actor kind, ordered by when each cell was last
 * placed at its tail. The hot path only stamps `lastActive`; a sweep walks from the head, evicts
 * cells idle for `idleMs`, moves recently active ones to the tail, and stops at the first cell that
 * has been neither (everything behind it was placed later, so it is fresher still).
 */
import type { ActorCell } from './cell.js';

export class IdleList {
  private head: ActorCell | null = null;
  private tail: ActorCell | null = null;
  size = 0;

  constructor(readonly idleMs: number) {}

  add(cell: ActorCell, now: number): void {
    cell.lruMovedAt = now;
    cell.lruPrev = this.tail;
    cell.lruNext = null;
    if (this.tail) this.tail.lruNext = cell;
    else this.head = cell;
    this.tail = cell;
    this.size++;
  }

  remove(cell: ActorCell): void {
    if (cell.lruPrev) cell.lruPrev.lruNext = cell.lruNext;
    else if (this.head === cell) this.head = cell.lruNext;
    else return;
    if (cell.lruNext) cell.lruNext.lruPrev = cell.lruPrev;
    else this.tail = cell.lruPrev;
    cell.lruPrev = null;
    cell.lruNext = null;
    this.size--;
  }

  /** `evict` takes the cell out of memory (and this list) or returns false if it must stay. */
  sweep(now: number, evict: (cell: ActorCell) => boolean): void {
    if (!Number.isFinite(this.idleMs)) return;
    let cell = this.head;
    let budget = this.size;
    while (cell && budget-- > 0) {
      const next = cell.lruNext;
      if (now - cell.lastActive >= this.idleMs) {
        if (!evict(cell)) this.moveToTail(cell, now);
      } else if (cell.lastActive > cell.lruMovedAt) {
        this.moveToTail(cell, now);
      } else {
        break;
      }
      cell = next;
    }
  }

  private moveToTail(cell: ActorCell, now: number): void {
    this.remove(cell);
    this.add(cell, now);
  }
}
