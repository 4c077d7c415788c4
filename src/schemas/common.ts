/**
 * Small shapes shared by jobs, workflows and events.
 */
import { z } from 'zod';

export const Priority = z.number().int().min(0).max(100);

/** What a failed attempt reports; `retryable: false` ends retries at once. */
export const JobError = z.object({
  code: z.string().min(1).max(200),
  message: z.string().max(10_000),
  retryable: z.boolean().default(true),
});
export type JobError = z.infer<typeof JobError>;

export const Metadata = z.record(z.string(), z.unknown());

let lastMs = Number.NaN;
let lastIso = '';

/** ISO 8601 of epoch milliseconds. The last one is remembered: a turn's events and views share a time. */
export function isoAt(ms: number): string {
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}

let lastParsedIso = '';
let lastParsedMs = Number.NaN;

/**
 * Epoch milliseconds of an ISO 8601 time, the inverse of `isoAt`. The last one is remembered: the
 * events of a turn carry the same `at` string, and each was parsed again by every reader.
 */
export function msOfIso(iso: string): number {
  if (iso !== lastParsedIso) {
    lastParsedMs = Date.parse(iso);
    lastParsedIso = iso;
  }
  return lastParsedMs;
}

/** Stored as epoch milliseconds; shown as ISO 8601. */
export function isoTime(ms: number | null): string | null {
  return ms === null ? null : isoAt(ms);
}
