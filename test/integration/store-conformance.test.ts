/**
 * One conformance suite, run against every SnapshotStore: what the runtime relies on must hold
 * for the embedded store and for Redis alike.
 */
import { afterAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { MailroomError } from '../../src/errors.js';
import { MemoryStore } from '../../src/runtime/store/memory-store.js';
import { createRedisStore, type RedisStore } from '../../src/runtime/store/redis-store.js';
import type { ActorRecord, CommitEntry, SnapshotStore } from '../../src/runtime/store/snapshot-store.js';
import { uniquePrefix } from '../support/redis.js';

function record(
  state: unknown,
  tags: string[] = [],
  score = 0,
  timers: ActorRecord['timers'] = null,
): ActorRecord {
  return { state, timers, outbox: null, outSeq: null, inSeq: null, tags, score };
}

function write(
  kind: string,
  id: string,
  rec: ActorRecord | null,
  extra: Partial<CommitEntry> = {},
): CommitEntry {
  return {
    kind,
    id,
    record: rec,
    removeTags: [],
    addTags: rec?.tags ?? [],
    score: rec?.score ?? 0,
    removeTimers: [],
    setTimers: [],
    events: [],
    ...extra,
  };
}

const redisStores: RedisStore[] = [];
afterAll(async () => {
  for (const store of redisStores) await store.close();
});

const factories: Array<[string, () => Promise<SnapshotStore>]> = [
  ['memory', async () => new MemoryStore()],
  [
    'redis',
    async () => {
      const store = await createRedisStore({ url: inject('redisUrl'), prefix: uniquePrefix('conformance') });
      redisStores.push(store);
      return store;
    },
  ],
];

describe.each(factories)('SnapshotStore conformance: %s', (_name, create) => {
  let store: SnapshotStore;
  beforeEach(async () => {
    store = await create();
  });

  it('returns undefined for an actor never written', async () => {
    expect(await store.load('job', 'missing')).toBeUndefined();
  });

  it('round-trips a record with nested state', async () => {
    const rec: ActorRecord = {
      state: { status: 'pending', n: 42, f: 1.5, nested: { list: [1, 'two', null, { x: true }] }, empty: {} },
      timers: { retry: { at: 1234, msg: { type: 'retry', attempt: 2 } } },
      outbox: [{ seq: 3, to: ['workflow', 'w1'], msg: { type: 'step_done' } }],
      outSeq: { 'workflow:w1': 3 },
      inSeq: { 'job:j0': 7 },
      tags: ['live', 'status:pending'],
      score: 99,
    };
    await store.commit([write('job', 'j1', rec)]);
    expect(await store.load('job', 'j1')).toEqual(rec);
  });

  it('keeps kinds apart and allows ids containing separators', async () => {
    await store.commit([write('job', 'a:b', record(1)), write('workflow', 'a:b', record(2))]);
    expect((await store.load('job', 'a:b'))?.state).toBe(1);
    expect((await store.load('workflow', 'a:b'))?.state).toBe(2);
  });

  it('maintains tag sets and counts', async () => {
    await store.commit([
      write('job', 'j1', record('x', ['live', 'status:pending'], 1)),
      write('job', 'j2', record('y', ['live', 'status:pending'], 2)),
    ]);
    expect(await store.count('job', 'status:pending')).toBe(2);
    await store.commit([
      write('job', 'j1', record('x', ['status:completed'], 1), {
        removeTags: ['live', 'status:pending'],
        addTags: ['status:completed'],
      }),
    ]);
    expect(await store.count('job', 'status:pending')).toBe(1);
    expect(await store.count('job', 'live')).toBe(1);
    expect(await store.count('job', 'status:completed')).toBe(1);
    expect(await store.count('workflow', 'live')).toBe(0);
  });

  it('counts only members scored at least minScore when asked', async () => {
    await store.commit([
      write('job', 'j1', record('x', ['all'], 100)),
      write('job', 'j2', record('y', ['all'], 200)),
      write('job', 'j3', record('z', ['all'], 300)),
    ]);
    expect(await store.count('job', 'all', 200)).toBe(2);
    expect(await store.count('job', 'all', 301)).toBe(0);
    expect(await store.count('job', 'all', 0)).toBe(3);
    expect(await store.count('job', 'nothing', 0)).toBe(0);
  });

  it('deleting a record removes its snapshot, tags and timers', async () => {
    await store.commit([write('job', 'j1', record('x', ['live'], 1), { setTimers: [['expire', 500]] })]);
    await store.commit([write('job', 'j1', null, { removeTags: ['live'], removeTimers: ['expire'] })]);
    expect(await store.load('job', 'j1')).toBeUndefined();
    expect(await store.count('job', 'live')).toBe(0);
    expect(await store.loadTimers(Number.POSITIVE_INFINITY)).toEqual([]);
  });

  it('lists in score order with cursors that neither skip nor repeat across ties', async () => {
    const entries: CommitEntry[] = [];
    for (let i = 0; i < 25; i++)
      entries.push(write('job', `j${String(i).padStart(2, '0')}`, record(i, ['all'], i % 4)));
    await store.commit(entries);
    for (const descending of [false, true]) {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page = await store.list('job', 'all', { limit: 7, cursor, descending });
        seen.push(...page.ids);
        cursor = page.next;
        pages++;
      } while (cursor && pages < 10);
      expect(pages).toBe(4);
      expect(new Set(seen).size).toBe(25);
      const scores = seen.map((id) => Number(id.slice(1)) % 4);
      const sorted = [...scores].sort((a, b) => (descending ? b - a : a - b));
      expect(scores).toEqual(sorted);
    }
  });

  it('reports no next page when the last page is exactly full', async () => {
    await store.commit([write('job', 'a', record(1, ['t'], 1)), write('job', 'b', record(2, ['t'], 2))]);
    expect(await store.list('job', 't', { limit: 2 })).toEqual({ ids: ['a', 'b'], next: null });
  });

  it('stores timers, moves and removes them, and loads those due by a time', async () => {
    await store.commit([
      write('job', 'j1', record(1), {
        setTimers: [
          ['retry', 300],
          ['expire', 900],
        ],
      }),
      write('job', 'j2', record(2), { setTimers: [['retry', 100]] }),
    ]);
    await store.commit([
      write('job', 'j1', record(1), { setTimers: [['retry', 50]], removeTimers: ['expire'] }),
    ]);
    expect(await store.loadTimers(200)).toEqual([
      { kind: 'job', id: 'j1', name: 'retry', at: 50 },
      { kind: 'job', id: 'j2', name: 'retry', at: 100 },
    ]);
    expect(await store.loadTimers(Number.POSITIVE_INFINITY)).toHaveLength(2);
  });

  it('commits batches larger than one script call', async () => {
    const entries: CommitEntry[] = [];
    for (let i = 0; i < 4_500; i++) entries.push(write('job', `b${i}`, record({ i }, ['live'], i)));
    await store.commit(entries);
    expect(await store.count('job', 'live')).toBe(4_500);
    expect((await store.load('job', 'b4499'))?.state).toEqual({ i: 4499 });
  });

  it('appends events with contiguous seqs in entry order and reads them back after a seq', async () => {
    const before = await store.eventLogInfo();
    expect(before.lastSeq).toBe(0);
    const first = await store.commit([
      write('job', 'a', record(1), { events: [{ n: 1 }, { n: 2 }] }),
      write('job', 'b', record(2), { events: [] }),
      write('job', 'c', record(3), { events: [{ n: 3, nested: { ok: true } }] }),
    ]);
    expect(first.eventSeqs).toEqual([1, 2, 3]);
    const second = await store.commit([write('job', 'a', record(4), { events: [{ n: 4 }] })]);
    expect(second.eventSeqs).toEqual([4]);
    expect(await store.readEvents(0, 10)).toEqual([
      { seq: 1, event: { n: 1 } },
      { seq: 2, event: { n: 2 } },
      { seq: 3, event: { n: 3, nested: { ok: true } } },
      { seq: 4, event: { n: 4 } },
    ]);
    expect(await store.readEvents(2, 1)).toEqual([{ seq: 3, event: { n: 3, nested: { ok: true } } }]);
    expect(await store.readEvents(4, 10)).toEqual([]);
    const info = await store.eventLogInfo();
    expect(info).toMatchObject({ firstSeq: 1, lastSeq: 4 });
    expect(info.epoch).toBe(before.epoch);
    expect(info.epoch.length).toBeGreaterThan(0);
  });

  it('answers ping', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
  });

  it('reports STORE_UNAVAILABLE once closed and nothing is written', async () => {
    await store.close();
    const failure = await store.commit([write('job', 'late', record(1))]).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(MailroomError);
    expect((failure as MailroomError).code).toBe('STORE_UNAVAILABLE');
    await expect(store.ping()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
  });
});
