/**
 * One conformance suite, run against every SnapshotStore: what the runtime relies on must hold
 * for the embedded store and for Redis alike.
 */
import { pack, unpackMultiple } from 'msgpackr';
import { afterAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { MailroomError } from '../../src/errors.js';
import type { StateCodec } from '../../src/runtime/actor.js';
import { MemoryStore } from '../../src/runtime/store/memory-store.js';
import { createRedisStore, RedisStore } from '../../src/runtime/store/redis-store.js';
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

/** Pages through a whole tag set, small pages so cursors land on every kind of score and id. */
async function listAll(
  store: SnapshotStore,
  kind: string,
  tag: string,
  descending = false,
): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 100; pages++) {
    const page = await store.list(kind, tag, { limit: 2, cursor, descending });
    ids.push(...page.ids);
    cursor = page.next;
    if (!cursor) return ids;
  }
  throw new Error('listing did not end');
}

/**
 * Ids, tags and timer names that a key or member encoding could split, merge or mangle: the key
 * separator, hash-tag braces, spaces, multi-byte UTF-8 (a length counted in characters instead of
 * bytes shows up here), a digit string that must stay a string, and a long id.
 */
const AWKWARD = [
  'a:b',
  ':lead',
  'trail:',
  '{x}',
  'a}b{c',
  '}{',
  'with space',
  ' ',
  'ü',
  '日本',
  '🦀',
  '}:{ 日本 🦀',
  '007',
  'x'.repeat(300),
];

/** Ascending. Large ms timestamps and 2^53−1 need all 17 significant digits on the way through Lua. */
const SCORES = [
  -(2 ** 53 - 1),
  -1712345678901,
  -1.5,
  0,
  0.1,
  0.1 + 0.2,
  1.5,
  1712345678901,
  1712345678901.5,
  2 ** 53 - 1,
];

interface StoreOptions {
  /** Redis only: entries per script call. */
  maxEntriesPerCall?: number;
  /** Redis only: timers per round trip of loadTimers. */
  timersPerRead?: number;
  /** Events the log keeps (exactly in memory, about in Redis). */
  eventLogMaxLen?: number;
}

const redisStores: RedisStore[] = [];
afterAll(async () => {
  for (const store of redisStores) await store.close();
});

const factories: Array<[string, (options?: StoreOptions) => Promise<SnapshotStore>]> = [
  ['memory', async (options = {}) => new MemoryStore(options.eventLogMaxLen)],
  [
    'redis',
    async (options = {}) => {
      const store = await createRedisStore({
        url: inject('redisUrl'),
        prefix: uniquePrefix('conformance'),
        ...options,
      });
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
      outSeq: new Map([
        ['workflow:w1', 3],
        ['job:j2', 1],
      ]),
      inSeq: new Map([['job:j0', 7]]),
      tags: ['live', 'status:pending'],
      score: 99,
    };
    await store.commit([write('job', 'j1', rec)]);
    const loaded = await store.load('job', 'j1');
    expect(loaded).toEqual(rec);
    // Sequence tables come back as Maps, as seq-table.ts builds them.
    expect(loaded!.outSeq).toBeInstanceOf(Map);
    expect(loaded!.inSeq).toBeInstanceOf(Map);
  });

  it("keeps a kind's states in its codec's form when it encodes snapshots, and loads them back", async () => {
    const pairs: StateCodec<{ a: number; b: string } | null> = {
      encode: (state) => (state === null ? null : [state.a, state.b]),
      decode: (stored) => {
        if (!Array.isArray(stored)) return stored as { a: number; b: string } | null;
        return { a: stored[0] as number, b: stored[1] as string };
      },
    };
    store.useCodec?.('coded', pairs as StateCodec);
    // Written before the codec: loads as it was stored.
    await store.commit([write('older', 'o1', record({ a: 0, b: 'plain' }))]);
    store.useCodec?.('older', pairs as StateCodec);
    await store.commit([
      write('coded', 'c1', record({ a: 1, b: 'one' })),
      write('coded', 'c2', record(null)),
    ]);
    expect((await store.load('coded', 'c1'))?.state).toEqual({ a: 1, b: 'one' });
    expect((await store.load('coded', 'c2'))?.state).toBeNull();
    expect((await store.load('older', 'o1'))?.state).toEqual({ a: 0, b: 'plain' });
    if (store instanceof RedisStore) {
      // Stored without field names: a head (tags, timer count, outbox length), then the layout
      // number and the record's other fields in order.
      const raw = await store.client.getBuffer(store.keys.snapshot('coded', 'c1'));
      expect(unpackMultiple(raw!)).toEqual([
        [[], 0, 0],
        [2, [1, 'one'], null, null, null, null, 0],
      ]);
      // A record stored in one value with its tags inside (layout 1) still loads.
      await store.client.set(
        store.keys.snapshot('coded', 'c4'),
        pack([1, [4, 'four'], null, null, ['workflow:w1', 2], null, ['live'], 9]),
      );
      expect(await store.load('coded', 'c4')).toEqual({
        ...record({ a: 4, b: 'four' }, ['live'], 9),
        outSeq: new Map([['workflow:w1', 2]]),
      });
      // A record stored before layouts, as a map with its field names, still loads.
      // Its sequence tables were msgpack maps too.
      const older = record([2, 'two'], ['live'], 5);
      const tables = { outSeq: { 'workflow:w1': 3 }, inSeq: { 'job:j0': 7 } };
      await store.client.set(store.keys.snapshot('coded', 'c3'), pack({ ...older, ...tables }));
      expect(await store.load('coded', 'c3')).toEqual({
        ...older,
        state: { a: 2, b: 'two' },
        outSeq: new Map([['workflow:w1', 3]]),
        inSeq: new Map([['job:j0', 7]]),
      });
    }
  });

  it("logs events in the event codec's form when it encodes, and reads them back", async () => {
    const pairs: StateCodec = {
      encode: (event) => [(event as { n: number }).n],
      decode: (stored) => (Array.isArray(stored) ? { n: stored[0] } : stored),
    };
    // Logged before the codec: read as it was stored.
    await store.commit([write('job', 'j1', record(1), { events: [{ n: 0 }] })]);
    store.useEventCodec?.(pairs);
    await store.commit([write('job', 'j1', record(2), { events: [{ n: 1 }, { n: 2 }] })]);
    const read = await store.readEvents(0, 10);
    expect(read.map((logged) => logged.event)).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
    if (store instanceof RedisStore) {
      const [newest] = await store.client.xrevrangeBuffer(store.keys.events(), '+', '-', 'COUNT', 1);
      expect(unpackMultiple(newest![1][1]!)).toEqual([[1], [2]]);
    }
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

  it('lists and counts once an actor that left a tag and joined it again, many times over', async () => {
    await store.commit([write('job', 'stays', record(0, ['t'], 5))]);
    for (let round = 0; round < 3; round++) {
      await store.commit([write('job', 'back', record(round, ['t'], 1))]);
      await store.commit([write('job', 'back', record(round, [], 1), { removeTags: ['t'] })]);
    }
    await store.commit([write('job', 'back', record('last', ['t'], 1))]);
    expect(await listAll(store, 'job', 't')).toEqual(['back', 'stays']);
    expect(await listAll(store, 'job', 't', true)).toEqual(['stays', 'back']);
    expect(await store.count('job', 't')).toBe(2);
    expect(await store.count('job', 't', 1)).toBe(2);
    expect(await store.count('job', 't', 2)).toBe(1);
  });

  it('keeps a tag right while thousands of actors pass through it', async () => {
    const ids = Array.from({ length: 3_000 }, (_, i) => `p${i}`);
    await store.commit(ids.map((id, i) => write('job', id, record(i, ['busy'], i))));
    // All but every thousandth leave; some of those come back later.
    await store.commit(
      ids
        .filter((_, i) => i % 1_000 !== 0)
        .map((id, i) => write('job', id, record(i, [], i), { removeTags: ['busy'] })),
    );
    await store.commit([write('job', 'p7', record(7, ['busy'], 7)), write('job', 'p1', null)]);
    expect(await store.count('job', 'busy')).toBe(4);
    expect(await listAll(store, 'job', 'busy')).toEqual(['p0', 'p7', 'p1000', 'p2000']);
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

  describe('removal by timer', () => {
    /** A finished actor as the runtime writes one: its expiry is its only timer. */
    function expiring(id: string, at: number, state: unknown = id, tags = ['live', 'status:done']) {
      return write('job', id, record(state, tags, 1, { expire: { at, msg: 'expire' } }), {
        setTimers: [['expire', at]],
      });
    }
    const firing = (id: string, at: number, name = 'expire') => ({ kind: 'job', id, name, at });

    it('removes an actor whose only timer fired, with its index entries, and nothing else', async () => {
      await store.commit([
        expiring('a', 100),
        expiring('b', 200),
        write('job', 'c', record('c', ['live'], 2)),
      ]);
      expect(await store.removeByTimer!([firing('a', 100)])).toEqual(['removed']);
      expect(await store.load('job', 'a')).toBeUndefined();
      expect(await listAll(store, 'job', 'live')).toEqual(['b', 'c']);
      expect(await store.count('job', 'status:done')).toBe(1);
      expect(await store.loadTimers(Number.POSITIVE_INFINITY)).toEqual([firing('b', 200)]);
    });

    it('calls a firing stale when its timer is gone or moved, and changes nothing', async () => {
      await store.commit([expiring('b', 200)]);
      await store.commit([
        write('job', 'moved', record('m', ['live'], 1, { expire: { at: 300, msg: 'x' } }), {
          setTimers: [['expire', 300]],
        }),
      ]);
      await store.commit([
        write('job', 'moved', record('m', ['live'], 1, { expire: { at: 400, msg: 'x' } }), {
          setTimers: [['expire', 400]],
        }),
      ]);
      const outcomes = await store.removeByTimer!([
        firing('b', 199),
        firing('b', 200, 'other'),
        firing('moved', 300),
        firing('nobody', 200),
      ]);
      expect(outcomes).toEqual(['stale', 'stale', 'stale', 'stale']);
      expect((await store.load('job', 'b'))?.state).toBe('b');
      expect(await listAll(store, 'job', 'live')).toEqual(['b', 'moved']);
      expect(await store.loadTimers(Number.POSITIVE_INFINITY)).toEqual([
        firing('b', 200),
        firing('moved', 400),
      ]);
    });

    it('holds an actor that has another timer or an undelivered message', async () => {
      const twoTimers = record('t', ['live'], 1, {
        expire: { at: 100, msg: 'expire' },
        redeliver: { at: 150, msg: 'redeliver' },
      });
      const withOutbox: ActorRecord = {
        ...record('o', ['live'], 1, { expire: { at: 100, msg: 'expire' } }),
        outbox: [{ seq: 1, to: ['workflow', 'w1'], msg: { step: 'x' } }],
      };
      await store.commit([
        write('job', 'two', twoTimers, {
          setTimers: [
            ['expire', 100],
            ['redeliver', 150],
          ],
        }),
        write('job', 'outbox', withOutbox, { setTimers: [['expire', 100]] }),
      ]);
      expect(await store.removeByTimer!([firing('two', 100), firing('outbox', 100)])).toEqual([
        'held',
        'held',
      ]);
      expect(await store.load('job', 'two')).toEqual(twoTimers);
      expect(await store.load('job', 'outbox')).toEqual(withOutbox);
      expect(await store.count('job', 'live')).toBe(2);
      expect(await store.loadTimers(Number.POSITIVE_INFINITY)).toHaveLength(3);
    });

    it('removes awkward ids at exact fractional deadlines, binary states included, in any number', async () => {
      const at = 1712345678901.5;
      const awkward = AWKWARD.map((id) =>
        expiring(id, at, Buffer.from([0xc4, 0, 1, 2]), ['live', AWKWARD[9]!]),
      );
      const many = Array.from({ length: 1_100 }, (_, i) => expiring(`m${i}`, i + 0.25));
      await store.commit([...awkward, ...many]);
      const outcomes = await store.removeByTimer!([
        ...AWKWARD.map((id) => firing(id, at)),
        ...many.map((_, i) => firing(`m${i}`, i + 0.25)),
      ]);
      expect(outcomes).toEqual(Array(AWKWARD.length + many.length).fill('removed'));
      expect(await store.count('job', 'live')).toBe(0);
      expect(await store.count('job', AWKWARD[9]!)).toBe(0);
      expect(await store.loadTimers(Number.POSITIVE_INFINITY)).toEqual([]);
      expect(await store.load('job', AWKWARD[0]!)).toBeUndefined();
    });

    it('files removal timers apart: loads of the others skip them, pages of due ones resume after a cursor', async () => {
      store.useRemovalTimers!('job', ['expire']);
      // Three share a deadline, as jobs finished in one millisecond do.
      const deadlines = [100, 200, 200, 200, 300, 400];
      await store.commit([
        ...deadlines.map((at, i) => expiring(`e${i}`, at)),
        write('job', 'other', record('o', [], 0, { due: { at: 150, msg: 'x' } }), {
          setTimers: [['due', 150]],
        }),
        write('workflow', 'w1', record('w', [], 0, { expire: { at: 250, msg: 'x' } }), {
          setTimers: [['expire', 250]],
        }),
      ]);
      // The other kind's `expire` was not named: it stays with the other timers.
      expect(await store.loadTimers(Number.POSITIVE_INFINITY)).toEqual([
        { kind: 'job', id: 'other', name: 'due', at: 150 },
        { kind: 'workflow', id: 'w1', name: 'expire', at: 250 },
      ]);
      const ids = (timers: Array<{ id: string }>) => timers.map((timer) => timer.id);
      const first = await store.loadRemovalTimers!(300, null, 2);
      expect(first).toEqual([firing('e0', 100), firing('e1', 200)]);
      // One read at the cursor's deadline is removed before the next page: nothing is skipped.
      expect(await store.removeByTimer!([firing('e1', 200)])).toEqual(['removed']);
      const second = await store.loadRemovalTimers!(300, first[1]!, 2);
      expect(ids(second)).toEqual(['e2', 'e3']);
      expect(ids(await store.loadRemovalTimers!(300, second[1]!, 2))).toEqual(['e4']);
      expect(await store.loadRemovalTimers!(300, firing('e4', 300), 2)).toEqual([]);
      expect(ids(await store.loadRemovalTimers!(Number.POSITIVE_INFINITY, null, 10))).toEqual([
        'e0',
        'e2',
        'e3',
        'e4',
        'e5',
      ]);
    });

    it('pages removal timers in order when more are filed after a page was read', async () => {
      store.useRemovalTimers!('job', ['expire']);
      await store.commit([expiring('b', 1_500), expiring('d', 1_700)]);
      const first = await store.loadRemovalTimers!(2_000, null, 1);
      expect(first).toEqual([firing('b', 1_500)]);
      // Within the same second: one before the cursor (never read from it), two after.
      await store.commit([expiring('a', 1_400), expiring('c', 1_600), expiring('e', 1_700)]);
      const ids = (timers: Array<{ id: string }>) => timers.map((timer) => timer.id);
      expect(ids(await store.loadRemovalTimers!(2_000, first[0]!, 10))).toEqual(['c', 'd', 'e']);
      expect(ids(await store.loadRemovalTimers!(2_000, null, 10))).toEqual(['a', 'b', 'c', 'd', 'e']);
    });

    it('takes a removal timer out of its set when it is cancelled, moved or fired', async () => {
      store.useRemovalTimers!('job', ['expire']);
      await store.commit([expiring('a', 100), expiring('b', 200), expiring('c', 300)]);
      await store.commit([
        write('job', 'a', record('a', ['live']), { removeTimers: ['expire'] }),
        write('job', 'b', record('b', ['live'], 1, { expire: { at: 250, msg: 'x' } }), {
          setTimers: [['expire', 250]],
        }),
      ]);
      expect(await store.removeByTimer!([firing('b', 200), firing('b', 250), firing('c', 300)])).toEqual([
        'stale',
        'removed',
        'removed',
      ]);
      expect(await store.loadRemovalTimers!(Number.POSITIVE_INFINITY, null, 10)).toEqual([]);
      expect(await store.loadTimers(Number.POSITIVE_INFINITY)).toEqual([]);
      expect(await store.count('job', 'live')).toBe(1);
    });

    it('removes by a removal timer filed with the others, before removal timers had a set of their own', async () => {
      await store.commit([expiring('old', 100), expiring('cancelled', 100)]);
      store.useRemovalTimers!('job', ['expire']);
      await store.commit([write('job', 'cancelled', record('c', ['live']), { removeTimers: ['expire'] })]);
      expect(await store.loadTimers(Number.POSITIVE_INFINITY)).toEqual([firing('old', 100)]);
      expect(await store.removeByTimer!([firing('old', 100)])).toEqual(['removed']);
      expect(await store.loadTimers(Number.POSITIVE_INFINITY)).toEqual([]);
      expect(await store.count('job', 'live')).toBe(1);
    });

    it('holds an actor whose record has no head (written in layout 1)', async () => {
      if (!(store instanceof RedisStore)) return;
      await store.commit([expiring('old', 100)]);
      await store.client.set(
        store.keys.snapshot('job', 'old'),
        pack([1, Buffer.from([1]), { expire: { at: 100, msg: 'expire' } }, null, null, null, ['live'], 1]),
      );
      expect(await store.removeByTimer!([firing('old', 100)])).toEqual(['held']);
      expect((await store.load('job', 'old'))?.tags).toEqual(['live']);
    });

    it('fails whole when the store is unreachable', async () => {
      await store.commit([expiring('a', 100)]);
      await store.close();
      await expect(store.removeByTimer!([firing('a', 100)])).rejects.toMatchObject({
        code: 'STORE_UNAVAILABLE',
      });
    });
  });

  it('applies the entries of one commit in order, also when an actor appears twice', async () => {
    await store.commit([
      write('job', 'j1', record('first', ['a', 'shared'], 1), { setTimers: [['expire', 500]] }),
      write('job', 'j2', record('other', ['shared'], 2)),
      write('job', 'j1', record('second', ['b', 'shared'], 1), {
        removeTags: ['a'],
        addTags: ['b'],
        removeTimers: ['expire'],
        setTimers: [['retry', 600]],
      }),
      write('job', 'j3', record('gone', ['a'], 3)),
      write('job', 'j3', null, { removeTags: ['a'] }),
    ]);
    expect((await store.load('job', 'j1'))?.state).toBe('second');
    expect(await store.load('job', 'j3')).toBeUndefined();
    expect(await listAll(store, 'job', 'a')).toEqual([]);
    expect(await listAll(store, 'job', 'b')).toEqual(['j1']);
    expect(await listAll(store, 'job', 'shared')).toEqual(['j1', 'j2']);
    expect(await store.loadTimers(Number.POSITIVE_INFINITY)).toEqual([
      { kind: 'job', id: 'j1', name: 'retry', at: 600 },
    ]);
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
        expect(page.scores).toEqual(page.ids.map((id) => Number(id.slice(1)) % 4));
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
    expect(await store.list('job', 't', { limit: 2 })).toEqual({
      ids: ['a', 'b'],
      scores: [1, 2],
      next: null,
    });
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

  it('writes one call with more keys, members and timers than one command takes at once', async () => {
    // 5,000 entries in one script call: the gathered MSET, ZADD and timer ZADD go out in slices.
    const big = await create({ maxEntriesPerCall: 5_000 });
    const entries: CommitEntry[] = [];
    for (let i = 0; i < 5_000; i++) {
      entries.push(
        write('job', `s${i}`, record(i, ['all', `mod:${i % 3}`], i), {
          setTimers: [['expire', 10_000 + i]],
          events: [{ i }],
        }),
      );
    }
    const receipt = await big.commit(entries);
    expect(receipt.eventSeqs).toHaveLength(5_000);
    expect(await big.count('job', 'all')).toBe(5_000);
    expect(await big.count('job', 'mod:1')).toBe(1_667);
    expect((await big.load('job', 's4999'))?.state).toBe(4_999);
    expect(await big.loadTimers(10_000 + 4_999)).toHaveLength(5_000);
    const events = await big.readEvents(receipt.eventSeqs[4_997]!, 10);
    expect(events.map((logged) => logged.event)).toEqual([{ i: 4_998 }, { i: 4_999 }]);
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
    // From inside one commit's events, across into the next commit's, a page at a time.
    expect(await store.readEvents(1, 2)).toEqual([
      { seq: 2, event: { n: 2 } },
      { seq: 3, event: { n: 3, nested: { ok: true } } },
    ]);
    expect(await store.readEvents(2, 5)).toEqual([
      { seq: 3, event: { n: 3, nested: { ok: true } } },
      { seq: 4, event: { n: 4 } },
    ]);
    expect(await store.readEvents(4, 10)).toEqual([]);
    const info = await store.eventLogInfo();
    expect(info).toMatchObject({ firstSeq: 1, lastSeq: 4 });
    expect(info.epoch).toBe(before.epoch);
    expect(info.epoch.length).toBeGreaterThan(0);
  });

  it('round-trips records whose ids contain separators, braces, spaces and unicode', async () => {
    await store.commit(AWKWARD.map((id, i) => write('job', id, record({ id, i }))));
    for (const [i, id] of AWKWARD.entries()) expect(await store.load('job', id)).toEqual(record({ id, i }));
    expect(await store.load('job', 'a')).toBeUndefined();
    expect(await store.load('job', 'x'.repeat(299))).toBeUndefined();
  });

  it('lists and counts awkward ids under awkward tags in score order', async () => {
    // Id i is filed under tags 0..i, so each tag holds a different set and a mixed-up key shows.
    await store.commit(
      AWKWARD.map((id, i) => {
        const tags = AWKWARD.slice(0, i + 1);
        return write('job', id, record(i, tags, i * 10));
      }),
    );
    for (const [j, tag] of AWKWARD.entries()) {
      const members = AWKWARD.slice(j);
      expect(await store.count('job', tag)).toBe(members.length);
      expect(await store.count('job', tag, (AWKWARD.length - 2) * 10)).toBe(Math.min(2, members.length));
      expect(await listAll(store, 'job', tag)).toEqual(members);
      expect(await listAll(store, 'job', tag, true)).toEqual([...members].reverse());
    }
  });

  it('stores and removes timers of awkward ids with awkward names', async () => {
    const names = [...AWKWARD].reverse();
    await store.commit(
      AWKWARD.map((id, i) => write('job', id, record(i), { setTimers: [[names[i]!, 1000 + i]] })),
    );
    const expected = AWKWARD.map((id, i) => ({ kind: 'job', id, name: names[i]!, at: 1000 + i }));
    expect(await store.loadTimers(Number.POSITIVE_INFINITY)).toEqual(expected);
    await store.commit([write('job', AWKWARD[3]!, record(3), { removeTimers: [names[3]!] })]);
    expect(await store.loadTimers(Number.POSITIVE_INFINITY)).toEqual(expected.filter((_, i) => i !== 3));
  });

  it('keeps large, negative and fractional scores exact in list order and counts', async () => {
    // Written highest first, so an order that merely follows insertion fails.
    await store.commit(
      SCORES.map((score, i) => write('job', `s${i}`, record(score, ['all'], score))).reverse(),
    );
    const ids = SCORES.map((_, i) => `s${i}`);
    expect(await listAll(store, 'job', 'all')).toEqual(ids);
    expect(await listAll(store, 'job', 'all', true)).toEqual([...ids].reverse());
    for (const [i, score] of SCORES.entries()) {
      expect(await store.count('job', 'all', score)).toBe(SCORES.length - i);
    }
    expect(await store.count('job', 'all', 1712345678901.25)).toBe(2);
  });

  it('keeps large, negative and fractional timer deadlines exact', async () => {
    await store.commit(
      SCORES.map((at, i) => write('job', `t${i}`, record(i), { setTimers: [['due', at]] })).reverse(),
    );
    const timers = SCORES.map((at, i) => ({ kind: 'job', id: `t${i}`, name: 'due', at }));
    expect(await store.loadTimers(Number.POSITIVE_INFINITY)).toEqual(timers);
    expect(await store.loadTimers(1.5)).toEqual(timers.slice(0, 7));
    expect(await store.loadTimers(1.4999)).toEqual(timers.slice(0, 6));
    expect(await store.loadTimers(-1.5)).toEqual(timers.slice(0, 3));
    expect(await store.loadTimers(2 ** 53 - 2)).toEqual(timers.slice(0, -1));
  });

  it('loads only live timers after many are set, moved and removed within the same seconds', async () => {
    // Like redelivery timers under load: armed and cancelled by the thousand within a second.
    for (let round = 0; round < 5; round++) {
      await store.commit(
        Array.from({ length: 200 }, (_, i) =>
          write('job', `r${i}`, record(i), { setTimers: [['redeliver', 5_000 + i + round / 10]] }),
        ),
      );
      await store.commit(
        Array.from({ length: 200 }, (_, i) =>
          write('job', `r${i}`, record(i), i % 50 === 0 ? {} : { removeTimers: ['redeliver'] }),
        ),
      );
    }
    expect(await store.loadTimers(10_000)).toEqual(
      [0, 50, 100, 150].map((i) => ({ kind: 'job', id: `r${i}`, name: 'redeliver', at: 5_000 + i + 0.4 })),
    );
    await store.commit(
      [0, 50, 100, 150].map((i) => write('job', `r${i}`, null, { removeTimers: ['redeliver'] })),
    );
    expect(await store.loadTimers(Number.POSITIVE_INFINITY)).toEqual([]);
  });

  it('lists a member at the score of its latest write', async () => {
    await store.commit([write('job', 'j1', record(1, ['t'], 1)), write('job', 'j2', record(2, ['t'], 2))]);
    // A changed score restates the record's tags, as every write of a rescored actor does.
    await store.commit([write('job', 'j1', record(1, ['t'], 3))]);
    expect(await listAll(store, 'job', 't')).toEqual(['j2', 'j1']);
    expect(await store.count('job', 't', 3)).toBe(1);
  });

  it('loads windows of timers spread over many seconds, some moved between seconds or removed', async () => {
    const at = (i: number) => 500 + i * 997;
    await store.commit(
      Array.from({ length: 50 }, (_, i) => write('job', `t${i}`, record(i), { setTimers: [['due', at(i)]] })),
    );
    await store.commit([
      write('job', 't10', record(10), { setTimers: [['due', 40_250.5]] }),
      write('job', 't20', record(20), { removeTimers: ['due'] }),
    ]);
    const window = async (until: number, after: number) =>
      (await store.loadTimers(until, after)).map((timer) => [timer.id, timer.at]);
    const expected = (from: number, to: number) =>
      Array.from({ length: 50 }, (_, i) => i)
        .filter((i) => i !== 10 && i !== 20 && at(i) > from && at(i) <= to)
        .map((i) => [`t${i}`, at(i)]);
    expect(await window(30_000, 10_000)).toEqual(expected(10_000, 30_000));
    expect(await window(at(5), at(3))).toEqual([
      ['t4', at(4)],
      ['t5', at(5)],
    ]);
    expect(await window(41_000, 40_000)).toEqual([
      ['t10', 40_250.5],
      ['t40', at(40)],
    ]);
    expect(await store.loadTimers(Number.POSITIVE_INFINITY)).toHaveLength(49);
  });

  it('loads the timers of a window, after (exclusive) to until (inclusive), read in pages', async () => {
    const paged = await create({ timersPerRead: 3 });
    const deadlines = [10, 20, 20, 20, 30, 40, 50, 60];
    await paged.commit(
      deadlines.map((at, i) => write('job', `w${i}`, record(i), { setTimers: [['due', at]] })),
    );
    const ids = (timers: Array<{ id: string }>) => timers.map((timer) => timer.id);
    expect(ids(await paged.loadTimers(Number.POSITIVE_INFINITY))).toEqual(deadlines.map((_, i) => `w${i}`));
    expect(ids(await paged.loadTimers(50, 20))).toEqual(['w4', 'w5', 'w6']);
    expect(ids(await paged.loadTimers(20, 10))).toEqual(['w1', 'w2', 'w3']);
    expect(ids(await paged.loadTimers(20, 20))).toEqual([]);
    expect(ids(await paged.loadTimers(Number.POSITIVE_INFINITY, 40))).toEqual(['w6', 'w7']);
  });

  it('reads every timer once when equal deadlines run over several pages', async () => {
    const paged = await create({ timersPerRead: 3 });
    const deadlines = [5, 20, 20, 20, 20, 20, 20, 20, 25, 25, 25, 30];
    await paged.commit(
      deadlines.map((at, i) => write('job', `w${i}`, record(i), { setTimers: [['due', at]] })),
    );
    const ids = (timers: Array<{ id: string }>) => timers.map((timer) => timer.id).sort();
    const all = deadlines.map((_, i) => `w${i}`).sort();
    expect(ids(await paged.loadTimers(Number.POSITIVE_INFINITY))).toEqual(all);
    expect(ids(await paged.loadTimers(25, 5))).toEqual(all.filter((id) => !['w0', 'w11'].includes(id)));
    const ats = (await paged.loadTimers(Number.POSITIVE_INFINITY, 19)).map((timer) => timer.at);
    expect(ats).toEqual(deadlines.slice(1));
  });

  it('reports one increasing seq per event, in entry order, across a batch split into several calls', async () => {
    const split = await create({ maxEntriesPerCall: 3 });
    const earlier = await split.commit([write('job', 'earlier', record(0), { events: [{ n: 0 }] })]);
    // With three entries per call: events in the first and last calls, none in the middle one.
    const eventsPerEntry = [
      [{ n: 1 }, { n: 2 }],
      [],
      [{ n: 3 }],
      [],
      [],
      [],
      [],
      [{ n: 4 }, { n: 5 }, { n: 6 }],
      [{ n: 7 }],
    ];
    const receipt = await split.commit(
      eventsPerEntry.map((events, i) => write('job', `e${i}`, record(i, ['live'], i), { events })),
    );
    const events = eventsPerEntry.flat();
    expect(receipt.eventSeqs).toHaveLength(events.length);
    let previous = earlier.eventSeqs[0]!;
    for (const seq of receipt.eventSeqs) {
      expect(seq).toBeGreaterThan(previous);
      previous = seq;
    }
    expect(await split.readEvents(earlier.eventSeqs[0]!, 100)).toEqual(
      events.map((event, i) => ({ seq: receipt.eventSeqs[i], event })),
    );
    for (const i of eventsPerEntry.keys()) expect((await split.load('job', `e${i}`))?.state).toBe(i);
    expect(await split.count('job', 'live')).toBe(eventsPerEntry.length);
  });

  it('trims the event log to about its length and reads on from its first seq', async () => {
    const trimmed = await create({ eventLogMaxLen: 20 });
    // Redis trims whole stream nodes (100 entries by default), so enough commits to fill more than one.
    for (let i = 1; i <= 150; i++) {
      await trimmed.commit([write('job', 'j', record(i), { events: [{ n: i }] })]);
    }
    const info = await trimmed.eventLogInfo();
    expect(info.lastSeq).toBe(150);
    expect(info.firstSeq).toBeGreaterThan(1);
    expect(info.lastSeq - info.firstSeq + 1).toBeGreaterThanOrEqual(20);
    expect(info.lastSeq - info.firstSeq + 1).toBeLessThanOrEqual(120);
    const rest = await trimmed.readEvents(info.firstSeq - 1, 1_000);
    expect(rest.map((logged) => logged.seq)).toEqual(
      Array.from({ length: 151 - info.firstSeq }, (_, i) => info.firstSeq + i),
    );
    expect(rest.map((logged) => logged.event)).toEqual(rest.map((logged) => ({ n: logged.seq })));
  });

  it('deletes one snapshot and writes its neighbours in the same batch', async () => {
    await store.commit(
      ['d1', 'd2', 'd3'].map((id, i) =>
        write('job', id, record(`${id}-old`, ['live', 'busy'], i), { setTimers: [['expire', 100 + i]] }),
      ),
    );
    // The deleted entry has no snapshot bytes but does have an event: the bytes after it must still line up.
    await store.commit([
      write('job', 'd1', record('d1-new', ['live'], 0), { removeTags: ['busy'], events: [{ n: 1 }] }),
      write('job', 'd2', null, {
        removeTags: ['live', 'busy'],
        removeTimers: ['expire'],
        events: [{ deleted: 'd2' }],
      }),
      write('job', 'd3', record('d3-new', ['live', 'busy'], 2), {
        setTimers: [['expire', 300]],
        events: [{ n: 3 }],
      }),
    ]);
    expect(await store.load('job', 'd1')).toEqual(record('d1-new', ['live'], 0));
    expect(await store.load('job', 'd2')).toBeUndefined();
    expect(await store.load('job', 'd3')).toEqual(record('d3-new', ['live', 'busy'], 2));
    expect(await listAll(store, 'job', 'live')).toEqual(['d1', 'd3']);
    expect(await listAll(store, 'job', 'busy')).toEqual(['d3']);
    expect(await store.loadTimers(Number.POSITIVE_INFINITY)).toEqual([
      { kind: 'job', id: 'd1', name: 'expire', at: 100 },
      { kind: 'job', id: 'd3', name: 'expire', at: 300 },
    ]);
    expect((await store.readEvents(0, 10)).map(({ event }) => event)).toEqual([
      { n: 1 },
      { deleted: 'd2' },
      { n: 3 },
    ]);
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
