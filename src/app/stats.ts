/**
 * Throughput and latency over the last minute, fed by job events: one bucket per second, each
 * with completion and failure counts and an HDR histogram of submit-to-finish latency; a query
 * merges the buckets of the last 60 seconds. Counts by status and type come from the store's indexes.
 */
import * as hdr from 'hdr-histogram-js';
import type { Clock } from '../runtime/clock.js';
import { msOfIso } from '../schemas/common.js';
import type { MailroomEvent } from '../schemas/events.js';

const WINDOW_SECONDS = 60;
/** Bounds the memory spent remembering submit times of jobs that have not finished. */
const MAX_TRACKED = 200_000;

interface Bucket {
  second: number;
  completed: number;
  failed: number;
  latency: hdr.Histogram;
}

export interface WindowStats {
  window_seconds: number;
  completed: number;
  failed: number;
  throughput_per_second: number;
  latency_ms: { p50: number; p90: number; p99: number; p999: number; max: number; count: number };
}

function histogram(): hdr.Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 24 * 3_600_000,
    numberOfSignificantValueDigits: 3,
  });
}

export class RollingStats {
  private readonly buckets: Bucket[] = [];
  private readonly submittedAt = new Map<string, number>();

  constructor(private readonly clock: Clock) {}

  record(event: MailroomEvent): void {
    switch (event.type) {
      case 'job_submitted': {
        const now = msOfIso(event.at);
        if (this.submittedAt.size >= MAX_TRACKED) {
          const oldest = this.submittedAt.keys().next().value;
          if (oldest !== undefined) this.submittedAt.delete(oldest);
        }
        if (!this.submittedAt.has(event.job_id)) this.submittedAt.set(event.job_id, now);
        return;
      }
      case 'job_completed':
      case 'job_failed': {
        const now = msOfIso(event.at);
        const bucket = this.bucket(Math.floor(now / 1000));
        if (event.type === 'job_completed') bucket.completed++;
        else bucket.failed++;
        const submitted = this.submittedAt.get(event.job_id);
        if (submitted !== undefined) {
          this.submittedAt.delete(event.job_id);
          bucket.latency.recordValue(Math.max(1, now - submitted));
        }
        return;
      }
      case 'job_cancelled':
        this.submittedAt.delete(event.job_id);
        return;
      default:
        return;
    }
  }

  window(): WindowStats {
    const nowSecond = Math.floor(this.clock.now() / 1000);
    const merged = histogram();
    let completed = 0;
    let failed = 0;
    for (const bucket of this.buckets) {
      if (nowSecond - bucket.second >= WINDOW_SECONDS) continue;
      completed += bucket.completed;
      failed += bucket.failed;
      merged.add(bucket.latency);
    }
    const count = merged.totalCount;
    const at = (p: number) => (count === 0 ? 0 : merged.getValueAtPercentile(p));
    return {
      window_seconds: WINDOW_SECONDS,
      completed,
      failed,
      throughput_per_second: Math.round(((completed + failed) / WINDOW_SECONDS) * 100) / 100,
      latency_ms: {
        p50: at(50),
        p90: at(90),
        p99: at(99),
        p999: at(99.9),
        max: count === 0 ? 0 : merged.maxValue,
        count,
      },
    };
  }

  private bucket(second: number): Bucket {
    const last = this.buckets[this.buckets.length - 1];
    if (last && last.second === second) return last;
    const found = this.buckets.find((bucket) => bucket.second === second);
    if (found) return found;
    const bucket: Bucket = { second, completed: 0, failed: 0, latency: histogram() };
    this.buckets.push(bucket);
    this.buckets.sort((a, b) => a.second - b.second);
    while (this.buckets.length > 0 && second - this.buckets[0]!.second >= WINDOW_SECONDS)
      this.buckets.shift();
    return bucket;
  }
}
