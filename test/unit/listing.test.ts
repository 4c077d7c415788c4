/**
 * Listing everything of a kind: no index holds every actor, so a page merges the pages of the
 * status tags (listing.ts). Through the app this is covered in test/app/job-queries.test.ts; here,
 * a status that moved between the reads.
 */
import { describe, expect, it } from 'vitest';
import { listByTags } from '../../src/app/listing.js';
import { MemoryStore } from '../../src/runtime/store/memory-store.js';
import type { CommitEntry, ListOptions, SnapshotStore } from '../../src/runtime/store/snapshot-store.js';

interface Item {
  id: string;
  status: string;
}

function write(item: Item, score: number): CommitEntry {
  const tags = [`status:${item.status}`];
  return {
    kind: 'item',
    id: item.id,
    record: { state: item, timers: null, outbox: null, outSeq: null, inSeq: null, tags, score },
    removeTags: [],
    addTags: tags,
    score,
    removeTimers: [],
    setTimers: [],
    events: [],
  };
}

const PARTITION = ['status:pending', 'status:completed'];
const tagsOf = (item: Item) => [`status:${item.status}`];

describe('listing everything of a kind', () => {
  it('lists an actor once when two status reads both name it', async () => {
    const inner = new MemoryStore();
    await inner.commit([
      write({ id: 'a', status: 'completed' }, 2),
      write({ id: 'b', status: 'completed' }, 1),
    ]);
    // The read of `pending` was answered before `a` completed; the read of `completed`, after.
    const store = {
      load: (kind: string, id: string) => inner.load(kind, id),
      list: (kind: string, tag: string, options: ListOptions) =>
        tag === 'status:pending'
          ? Promise.resolve({ ids: ['a'], scores: [2], next: null })
          : inner.list(kind, tag, options),
    } as unknown as SnapshotStore;
    const page = await listByTags<Item, string>(
      store,
      'item',
      [],
      PARTITION,
      { limit: 5 },
      (i) => i.id,
      tagsOf,
    );
    expect(page).toEqual({ items: ['a', 'b'], next_cursor: null });
  });

  it('pages across the tags newest first and resumes after the cursor', async () => {
    const store = new MemoryStore();
    await store.commit([
      write({ id: 'p1', status: 'pending' }, 1),
      write({ id: 'c2', status: 'completed' }, 2),
      write({ id: 'p3', status: 'pending' }, 3),
      write({ id: 'c3', status: 'completed' }, 3),
    ]);
    const view = (item: Item) => item.id;
    const first = await listByTags<Item, string>(store, 'item', [], PARTITION, { limit: 2 }, view, tagsOf);
    expect(first.items).toEqual(['p3', 'c3']);
    const second = await listByTags<Item, string>(
      store,
      'item',
      [],
      PARTITION,
      { limit: 2, cursor: first.next_cursor },
      view,
      tagsOf,
    );
    expect(second).toEqual({ items: ['c2', 'p1'], next_cursor: null });
  });
});
