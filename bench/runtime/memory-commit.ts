/**
 * The embedded store's share of an echo job: the three writes a job makes (queued, running,
 * finished with its retention timer), replayed through `MemoryStore.commit` with no actors, as
 * the store fills up with retained jobs. Prints the cost per job at each size, in batches like
 * the group commit's.
 *   node --import tsx bench/runtime/memory-commit.ts [--jobs 600000] [--batch 256]
 */
import { randomUUID } from 'node:crypto';
import { MemoryStore } from '../../src/runtime/store/memory-store.js';
import type { ActorRecord, CommitEntry } from '../../src/runtime/store/snapshot-store.js';
import { flags, num, table } from './common.js';

const values = flags(
  { jobs: { type: 'string' }, batch: { type: 'string' } },
  'usage: memory-commit.ts [--jobs N] [--batch N]',
);
const jobs = num(values.jobs, 600_000);
const batch = num(values.batch, 256);
const RETENTION_MS = 86_400_000;
const NONE: readonly string[] = [];
const NO_TIMERS: ReadonlyArray<readonly [string, number]> = [];

function record(status: string, score: number, timers: ActorRecord['timers']): ActorRecord {
  return {
    state: { status },
    timers,
    outbox: null,
    outSeq: null,
    inSeq: null,
    tags: [`status:${status}`, 'type:echo', 'all'],
    score,
  };
}

function entry(id: string, rec: ActorRecord, change: Partial<CommitEntry>): CommitEntry {
  return {
    kind: 'job',
    id,
    record: rec,
    removeTags: NONE,
    addTags: NONE,
    score: rec.score,
    removeTimers: NONE,
    setTimers: NO_TIMERS,
    events: [],
    ...change,
  };
}

const store = new MemoryStore();
const ids = Array.from({ length: jobs }, () => {
  const id = randomUUID();
  Number(id); // flat, as job ids are
  return id;
});
const rows: string[][] = [['jobs stored', 'µs per job (3 writes)']];
const reportEvery = Math.max(batch, Math.floor(jobs / 6));
let windowStart = performance.now();
let windowJobs = 0;
for (let first = 0; first < jobs; first += batch) {
  const last = Math.min(jobs, first + batch);
  const now = Date.now();
  // One batch per write step: every job of the batch queued, then running, then finished, as a
  // closed loop with that many jobs in flight would write them.
  const queued: CommitEntry[] = [];
  const running: CommitEntry[] = [];
  const finished: CommitEntry[] = [];
  for (let i = first; i < last; i++) {
    const id = ids[i]!;
    const score = now + i;
    const queuedRec = record('pending', score, null);
    queued.push(entry(id, queuedRec, { addTags: queuedRec.tags }));
    running.push(
      entry(id, record('running', score, null), {
        removeTags: ['status:pending'],
        addTags: ['status:running'],
      }),
    );
    const expire = { at: now + RETENTION_MS, msg: null };
    finished.push(
      entry(id, record('completed', score, { expire }), {
        removeTags: ['status:running'],
        addTags: ['status:completed'],
        setTimers: [['expire', expire.at]],
      }),
    );
  }
  await store.commit(queued);
  await store.commit(running);
  await store.commit(finished);
  windowJobs += last - first;
  if (last % reportEvery < batch || last === jobs) {
    const elapsed = performance.now() - windowStart;
    rows.push([String(last), ((elapsed * 1_000) / windowJobs).toFixed(2)]);
    windowStart = performance.now();
    windowJobs = 0;
  }
}
console.log(table(rows));
