/**
 * The pending queue of one job type: 101 FIFO buckets, one per priority, served highest first.
 * Taking a job may skip entries a worker cannot run (requirements), so removal from the middle
 * is lazy: taken entries are marked and dropped when they reach a bucket's head.
 */
import type { NeededResources } from './requirements.js';

export interface QueueEntry {
  jobId: string;
  jobType: string;
  priority: number;
  enqueuedAt: number;
  needs: NeededResources;
  taken: boolean;
}

/** How far past a bucket's head a worker looks for a job it can run. */
const SCAN_LIMIT = 64;

class Bucket {
  items: QueueEntry[] = [];
  head = 0;

  compact(): void {
    while (this.head < this.items.length && this.items[this.head]!.taken) this.head++;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}

export class TypeQueue {
  private readonly buckets: (Bucket | undefined)[] = new Array(101);
  private readonly members = new Set<string>();
  private highest = -1;

  constructor(readonly jobType: string) {}

  get size(): number {
    return this.members.size;
  }

  has(jobId: string): boolean {
    return this.members.has(jobId);
  }

  /** Adds a job unless it is already queued (requeues after restarts may repeat). */
  push(jobId: string, priority: number, enqueuedAt: number, needs: NeededResources): boolean {
    if (this.members.has(jobId)) return false;
    const p = Math.max(0, Math.min(100, Math.trunc(priority)));
    let bucket = this.buckets[p];
    if (!bucket) {
      bucket = new Bucket();
      this.buckets[p] = bucket;
    }
    bucket.items.push({ jobId, jobType: this.jobType, priority: p, enqueuedAt, needs, taken: false });
    this.members.add(jobId);
    if (p > this.highest) this.highest = p;
    return true;
  }

  /** Removes and returns the first job (by priority, then arrival) that `fits`. */
  takeFirst(fits: (needs: NeededResources) => boolean): QueueEntry | null {
    for (let p = this.highest; p >= 0; p--) {
      const bucket = this.buckets[p];
      if (!bucket) continue;
      bucket.compact();
      if (bucket.head === bucket.items.length) {
        if (p === this.highest) this.highest = p - 1;
        continue;
      }
      const end = Math.min(bucket.items.length, bucket.head + SCAN_LIMIT);
      for (let i = bucket.head; i < end; i++) {
        const entry = bucket.items[i]!;
        if (entry.taken || !fits(entry.needs)) continue;
        entry.taken = true;
        this.members.delete(entry.jobId);
        bucket.compact();
        return entry;
      }
    }
    return null;
  }
}
