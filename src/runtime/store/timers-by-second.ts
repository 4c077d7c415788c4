/**
 * The embedded store's timer index: timers by the second they are due in, so that loading a window
 * reads the seconds it covers. Appended to and marked dead rather than removed: a second's list is
 * dropped once nothing in it is live, and compacted when mostly dead.
 */
import type { TimerRef } from './snapshot-store.js';

/** A filed timer; `live` is cleared when it is removed or replaced, and its second drops it later. */
export interface IndexedTimer extends TimerRef {
  live: boolean;
}

interface SecondOfTimers {
  timers: IndexedTimer[];
  live: number;
  /** In deadline, then actor order (`byDeadlineThenActor`): kept for paging. */
  sorted: boolean;
}

export class TimersBySecond {
  private readonly seconds = new Map<number, SecondOfTimers>();

  file(timer: IndexedTimer): void {
    const key = Math.floor(timer.at / 1_000);
    let second = this.seconds.get(key);
    if (!second) {
      second = { timers: [], live: 0, sorted: true };
      this.seconds.set(key, second);
    }
    second.timers.push(timer);
    second.sorted = second.timers.length === 1;
    second.live++;
  }

  unfile(timer: IndexedTimer): void {
    timer.live = false;
    const key = Math.floor(timer.at / 1_000);
    const second = this.seconds.get(key);
    if (!second) return;
    second.live--;
    if (second.live <= 0) this.seconds.delete(key);
    // Mostly dead (timers set and cancelled within the second): keep what is live, at a cost paid
    // once per as many cancellations as there are entries.
    else if (second.timers.length > 2 * second.live + 64)
      second.timers = second.timers.filter((filed) => filed.live);
  }

  /** The live timers with `after < at <= until`, in no particular order. */
  within(after: number, until: number): TimerRef[] {
    const due: TimerRef[] = [];
    for (const key of this.secondsBetween(Math.floor(after / 1_000), Math.floor(until / 1_000))) {
      for (const { kind, id, name, at, live } of this.seconds.get(key)!.timers)
        if (live && at <= until && at > after) due.push({ kind, id, name, at });
    }
    return due;
  }

  /** Up to `limit` live timers due by `until` after `after` (from the earliest without it), in `byDeadlineThenActor` order. */
  page(until: number, after: TimerRef | null, limit: number): TimerRef[] {
    const page: TimerRef[] = [];
    const from = after ? Math.floor(after.at / 1_000) : Number.NEGATIVE_INFINITY;
    for (const key of this.secondsBetween(from, Math.floor(until / 1_000))) {
      const second = this.seconds.get(key)!;
      // Sorted when first paged: timers are mostly filed long before they come due.
      if (!second.sorted) {
        second.timers.sort(byDeadlineThenActor);
        second.sorted = true;
      }
      const timers = second.timers;
      for (let i = after ? firstAfter(timers, after) : 0; i < timers.length; i++) {
        const { kind, id, name, at, live } = timers[i]!;
        if (at > until) break;
        if (!live) continue;
        page.push({ kind, id, name, at });
        if (page.length === limit) return page;
      }
    }
    return page;
  }

  /** The filed seconds from `from` to `to`, in order. */
  private secondsBetween(from: number, to: number): number[] {
    // A bounded window (a load after the first, a sweep's page): the seconds it spans, one lookup
    // each. Otherwise (the first load, at recovery), the filed seconds themselves.
    if (to - from <= this.seconds.size) {
      const keys: number[] = [];
      for (let key = from; key <= to; key++) if (this.seconds.has(key)) keys.push(key);
      return keys;
    }
    return [...this.seconds.keys()].filter((key) => key >= from && key <= to).sort((a, b) => a - b);
  }
}

/** Deadline first; at one deadline, by kind, id and name (the order pages resume in). */
function byDeadlineThenActor(a: TimerRef, b: TimerRef): number {
  if (a.at !== b.at) return a.at - b.at;
  if (a.kind !== b.kind) return a.kind < b.kind ? -1 : 1;
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return 0;
}

/** The index of the first timer after `cursor` in timers sorted by `byDeadlineThenActor`. */
function firstAfter(timers: readonly TimerRef[], cursor: TimerRef): number {
  let low = 0;
  let high = timers.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (byDeadlineThenActor(timers[middle]!, cursor) <= 0) low = middle + 1;
    else high = middle;
  }
  return low;
}
