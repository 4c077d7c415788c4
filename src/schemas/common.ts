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
/** `YYYY-MM-DDTHH:MM:SS.` of the second `secondMs` starts. */
let secondMs = Number.NaN;
let secondPrefix = '';
/** `000Z` … `999Z`: the millisecond part and the zone, made once. */
const MILLIS = Array.from({ length: 1000 }, (_, ms) => `${String(ms).padStart(3, '0')}Z`);
/** 9999-12-31T23:59:59.999Z: later (and negative) times have a longer form, left to Date. */
const LAST_PLAIN_MS = 253_402_300_799_999;

/**
 * ISO 8601 of epoch milliseconds. The last one is remembered (a turn's events and views share a
 * time), and so is the last second's date and time: `toISOString` per new millisecond was 1.4 % of
 * a diamond workflow's samples.
 */
export function isoAt(ms: number): string {
  if (ms === lastMs) return lastIso;
  if (!Number.isInteger(ms) || ms < 0 || ms > LAST_PLAIN_MS) {
    lastIso = new Date(ms).toISOString();
  } else {
    const millis = ms % 1000;
    if (ms - millis !== secondMs) {
      secondMs = ms - millis;
      secondPrefix = new Date(secondMs).toISOString().slice(0, 20);
    }
    // Concatenation makes a rope; converting it to a number flattens it in place (see ids.ts).
    lastIso = secondPrefix + MILLIS[millis]!;
    Number(lastIso);
  }
  lastMs = ms;
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
