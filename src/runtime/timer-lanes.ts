/**
 * Two timer heaps behind one `arm`: background timers (retention expiries, which an actor declares
 * in `ActorLogic.backgroundTimers`) apart from the rest. A server that has run longer than its
 * retention has a backlog of expiries due at once; in one heap, a delayed job's start or an
 * attempt's timeout due now waited behind all of them, since a heap fires in deadline order. The
 * foreground lane fires as it comes due; only the background lane is paced by the store's backlog
 * (`mayFire`, see TimerHeap).
 */
import type { Clock } from './clock.js';
import { type HeapEntry, TimerHeap } from './timers.js';

/** What the parking room and the store's timer loads need of the heaps. */
export interface TimerArming {
  arm(kind: string, id: string, name: string, at: number): void;
  withinHorizon(at: number): boolean;
}

export class TimerLanes implements TimerArming {
  private readonly foreground: TimerHeap;
  private readonly background: TimerHeap;

  constructor(
    clock: Clock,
    onDue: (entry: HeapEntry) => void,
    horizonMs: number,
    private readonly isBackground: (kind: string, name: string) => boolean,
    mayFireBackground: () => boolean,
  ) {
    this.foreground = new TimerHeap(clock, onDue, horizonMs);
    this.background = new TimerHeap(clock, onDue, horizonMs, mayFireBackground);
  }

  get size(): number {
    return this.foreground.size + this.background.size;
  }

  arm(kind: string, id: string, name: string, at: number): void {
    (this.isBackground(kind, name) ? this.background : this.foreground).arm(kind, id, name, at);
  }

  withinHorizon(at: number): boolean {
    return this.foreground.withinHorizon(at);
  }

  fireDue(): void {
    this.foreground.fireDue();
    this.background.fireDue();
  }

  stop(): void {
    this.foreground.stop();
    this.background.stop();
  }
}
