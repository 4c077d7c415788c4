/**
 * Paged listings of jobs and workflows straight from the store's indexes.
 */
import {
  type CursorPosition,
  decodeCursor,
  encodeCursor as encodeListCursor,
} from '../runtime/store/cursor.js';
import type { ListPage, SnapshotStore } from '../runtime/store/snapshot-store.js';
import { validation } from './validation.js';

export interface ListQuery {
  limit?: number;
  cursor?: string | null;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** The page size asked for (1–500, default 50) and the position its cursor resumes after. */
function pageStart(query: ListQuery): { limit: number; after: CursorPosition | null } {
  const limit = Math.max(1, Math.min(query.limit ?? 50, 500));
  if (!query.cursor) return { limit, after: null };
  const after = decodeCursor(query.cursor);
  // A cursor that does not decode restarted the listing from the first page, silently.
  if (after === null) {
    throw validation([{ path: 'cursor', message: 'not a next_cursor from an earlier page' }]);
  }
  return { limit, after };
}

/**
 * Newest first from the most selective index; further filters are checked on the durable
 * snapshots (read from the store, without activating actors). With no filter, from the union of
 * `partition`: tags every actor of the kind has exactly one of (its status).
 */
export async function listByTags<S, V>(
  store: SnapshotStore,
  kind: string,
  filters: string[],
  partition: readonly string[],
  query: ListQuery,
  view: (state: S) => V,
  tagsOf: (state: S) => string[],
): Promise<Page<V>> {
  const { limit } = pageStart(query);
  const [primary, ...rest] = filters;
  const items: V[] = [];
  let cursor = query.cursor ?? null;
  for (;;) {
    const page =
      primary === undefined
        ? await unionPage(store, kind, partition, limit, cursor)
        : await store.list(kind, primary, { limit, cursor, descending: true });
    const records = await Promise.all(page.ids.map((id) => store.load(kind, id)));
    for (const [i, record] of records.entries()) {
      if (!record || record.state === null) continue;
      const state = record.state as S;
      const tags = tagsOf(state);
      if (!rest.every((tag) => tags.includes(tag))) continue;
      items.push(view(state));
      // Full mid-page: resume right after this item. Resuming after the whole page (as before)
      // skipped the page's remaining matches whenever a filtered page filled up the result.
      if (items.length === limit && i < records.length - 1) {
        return { items, next_cursor: encodeListCursor(record.score, page.ids[i]!) };
      }
    }
    cursor = page.next;
    if (!cursor || items.length >= limit) break;
  }
  return { items, next_cursor: cursor };
}

/**
 * One page, newest first, over the union of tags that partition a kind: the newest `limit` of
 * what each tag has after the cursor. No index holds every actor of a kind: on Redis that fourth
 * sorted set per job cost a sixth of an echo job's time in Redis, and listing everything is rare.
 */
async function unionPage(
  store: SnapshotStore,
  kind: string,
  tags: readonly string[],
  limit: number,
  cursor: string | null,
): Promise<ListPage> {
  const pages = await Promise.all(
    tags.map((tag) => store.list(kind, tag, { limit, cursor, descending: true })),
  );
  const merged: Array<{ id: string; score: number }> = [];
  // An actor whose status moved between the reads can be in two of them: listed once.
  const seen = new Set<string>();
  let more = false;
  for (const page of pages) {
    for (const [i, id] of page.ids.entries()) {
      if (seen.has(id)) continue;
      seen.add(id);
      merged.push({ id, score: page.scores[i]! });
    }
    if (page.next) more = true;
  }
  merged.sort(newestFirst);
  if (merged.length > limit) {
    more = true;
    merged.length = limit;
  }
  const last = merged[merged.length - 1];
  return {
    ids: merged.map((entry) => entry.id),
    scores: merged.map((entry) => entry.score),
    next: more && last ? encodeListCursor(last.score, last.id) : null,
  };
}

/** The order an index pages in, descending: highest score first, ties by id, highest first. */
function newestFirst(a: { id: string; score: number }, b: { id: string; score: number }): number {
  return b.score - a.score || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/**
 * One page over a known set of ids (a workflow's step jobs, whose ids its record holds), in the
 * order an index pages in: highest score first, ties by id, highest first; resuming after a
 * cursor of that kind. Every record is read, so this is for sets of at most a few hundred.
 */
export async function listByIds<S, V>(
  store: SnapshotStore,
  kind: string,
  ids: readonly string[],
  filters: string[],
  query: ListQuery,
  view: (state: S) => V,
  tagsOf: (state: S) => string[],
): Promise<Page<V>> {
  const { limit, after } = pageStart(query);
  const records = await Promise.all(ids.map((id) => store.load(kind, id)));
  const found: Array<{ id: string; score: number; state: S }> = [];
  for (const [i, record] of records.entries()) {
    if (!record || record.state === null) continue;
    const state = record.state as S;
    const tags = tagsOf(state);
    if (filters.every((tag) => tags.includes(tag))) found.push({ id: ids[i]!, score: record.score, state });
  }
  found.sort(newestFirst);
  const start = after
    ? found.findIndex(
        (item) => item.score < after.score || (item.score === after.score && item.id < after.id),
      )
    : 0;
  const page = start < 0 ? [] : found.slice(start, start + limit);
  const last = page[page.length - 1];
  const more = start >= 0 && start + limit < found.length;
  return {
    items: page.map((item) => view(item.state)),
    next_cursor: more && last ? encodeListCursor(last.score, last.id) : null,
  };
}
