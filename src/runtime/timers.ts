/**
 * One heap drives the durable timers due soon. Deadlines live in actor state (and in the store's
 * timer index); the heap only remembers when to wake which actor. Entries are validated by the
 * actor when they fire, so cancelled or moved timers need no removal from the heap. Deadlines
 * past the horizon are not kept: a day of retention timers would hold one entry per finished job
 * (at thousands of jobs per second, gigabytes); the system loads them from the store as they near.
 */
import type { Clock, ClockTimer } from './clock.js';
import { innerMap } from './inner-map.js';

export interface HeapEntry {
  at: number;
  kind: string;
  id: string;
  name: string;
}

/** Firings per wake: what is due beyond this waits for the next wake, so I/O is served between. */
export const FIRINGS_PER_WAKE = 256;
/** How soon a wake that found the system busy (`mayFire` false) looks again. */
export const BUSY_RECHECK_MS = 5;
/** Fired per wake even when busy, so a system saturated for good still gets through its backlog. */
export const FIRINGS_WHEN_BUSY = 8;

export class TimerHeap {
  private readonly heap: HeapEntry[] = [];
  /**
   * What is armed, by kind, then timer name, then actor id, so re-arming the same deadline adds
   * nothing. Nested rather than keyed by one `kind\0id\0name` string: that key was built, flattened
   * and hashed on every arm and every firing, half a million at a time when a server past its
   * retention loads its expiry timers.
   */
  private readonly armed = new Map<string, Map<string, Map<string, number>>>();
  private wakeTimer: ClockTimer | null = null;
  private wakeAt = Number.POSITIVE_INFINITY;
  private stopped = false;

  /**
   * `mayFire` paces firings that are overdue together (a store load of timers, a burst of
   * retention expiries): while it says no, due entries wait and the heap looks again shortly.
   * Without it every due firing was delivered at once; on Redis, a minute of retention expiries
   * activated 350k actors together and the server stopped serving (docs/benchmarks.md §20).
   */
  constructor(
    private readonly clock: Clock,
    private readonly onDue: (entry: HeapEntry) => void,
    private readonly horizonMs = Number.POSITIVE_INFINITY,
    private readonly mayFire: () => boolean = () => true,
  ) {}

  get size(): number {
    return this.heap.length;
  }

  /** False for deadlines past the horizon, which `arm` leaves to the store's timer index. */
  withinHorizon(at: number): boolean {
    return at <= this.clock.now() + this.horizonMs;
  }

  arm(kind: string, id: string, name: string, at: number): void {
    if (this.stopped || !this.withinHorizon(at)) return;
    const ids = innerMap(innerMap(this.armed, kind), name);
    if (ids.get(id) === at) return;
    ids.set(id, at);
    this.push({ at, kind, id, name });
    this.rearm();
  }

  stop(): void {
    this.stopped = true;
    if (this.wakeTimer) this.clock.clearTimeout(this.wakeTimer);
    this.wakeTimer = null;
  }

  /**
   * Fires what is due now, up to FIRINGS_PER_WAKE and while `mayFire` allows; the rest at the
   * next wake. Exposed so recovery can fire overdue timers without waiting a tick.
   */
  fireDue(): void {
    // Called directly (recovery), it does the pending wake's work: that wake is set again below.
    if (this.wakeTimer) {
      this.clock.clearTimeout(this.wakeTimer);
      this.wakeTimer = null;
      this.wakeAt = Number.POSITIVE_INFINITY;
    }
    const now = this.clock.now();
    let fired = 0;
    let busy = false;
    for (;;) {
      const top = this.heap[0];
      if (!top || top.at > now) break;
      if (fired === FIRINGS_PER_WAKE) break;
      if (fired >= FIRINGS_WHEN_BUSY && !this.mayFire()) {
        busy = true;
        break;
      }
      this.pop();
      fired++;
      const ids = this.armed.get(top.kind)?.get(top.name);
      if (ids?.get(top.id) === top.at) ids.delete(top.id);
      this.onDue(top);
    }
    this.rearm(busy ? now + BUSY_RECHECK_MS : now);
  }

  /** Wakes for the earliest entry, but not before `notBefore` (a busy system is looked at later). */
  private rearm(notBefore = this.clock.now()): void {
    const top = this.heap[0];
    if (this.stopped) return;
    if (!top) {
      if (this.wakeTimer) this.clock.clearTimeout(this.wakeTimer);
      this.wakeTimer = null;
      this.wakeAt = Number.POSITIVE_INFINITY;
      return;
    }
    const at = Math.max(top.at, notBefore);
    if (this.wakeTimer && this.wakeAt <= at) return;
    if (this.wakeTimer) this.clock.clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.wakeTimer = this.clock.setTimeout(
      () => {
        this.wakeTimer = null;
        this.wakeAt = Number.POSITIVE_INFINITY;
        this.fireDue();
      },
      Math.max(0, at - this.clock.now()),
    );
  }

  private push(entry: HeapEntry): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.at <= entry.at) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = entry;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (!last || heap.length === 0) return;
    let i = 0;
    const n = heap.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && heap[right]!.at < heap[left]!.at ? right : left;
      if (heap[child]!.at >= last.at) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
  }
}
