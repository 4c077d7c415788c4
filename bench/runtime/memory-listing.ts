/**
 * One listing page from a large tag set of the embedded store: how long `GET /api/v1/jobs` holds
 * the event loop once many jobs are kept. N jobs under one tag, then 20 pages of 50, newest first,
 * each after the previous page's cursor.
 *   node --import tsx bench/runtime/memory-listing.ts [--jobs 200000]
 */
import { MemoryStore } from '../../src/runtime/store/memory-store.js';
import type { CommitEntry } from '../../src/runtime/store/snapshot-store.js';
import { flags, num } from './common.js';

const values = flags({ jobs: { type: 'string' } }, 'usage: memory-listing.ts [--jobs N]');
const jobs = num(values.jobs, 200_000);
const store = new MemoryStore();
const BATCH = 1_000;
const T0 = 1_700_000_000_000;
for (let first = 0; first < jobs; first += BATCH) {
  const entries: CommitEntry[] = [];
  for (let i = first; i < Math.min(jobs, first + BATCH); i++) {
    const record = {
      state: i,
      timers: null,
      outbox: null,
      outSeq: null,
      inSeq: null,
      tags: ['all'],
      score: T0 + i,
    };
    entries.push({
      kind: 'job',
      id: `job-${i}`,
      record,
      removeTags: [],
      addTags: ['all'],
      score: T0 + i,
      removeTimers: [],
      setTimers: [],
      events: [],
    });
  }
  await store.commit(entries);
}
const times: number[] = [];
let cursor: string | null = null;
for (let page = 0; page < 20; page++) {
  const started = performance.now();
  const result = await store.list('job', 'all', { limit: 50, descending: true, cursor });
  times.push(performance.now() - started);
  cursor = result.next;
}
times.sort((a, b) => a - b);
console.log(
  `list a page of 50 from ${jobs} jobs, newest first: p50 ${times[10]!.toFixed(2)} ms, max ${times[19]!.toFixed(2)} ms`,
);
