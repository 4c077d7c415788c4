/**
 * What one actor contributes to a group commit: its record plus the index and timer changes
 * relative to what the store holds, so a commit touches only what moved.
 */
import type { ActorIndex } from './actor.js';
import type { ActorRecord, CommitEntry } from './store/snapshot-store.js';
import { LIVE_TAG } from './store/snapshot-store.js';

/**
 * Index tags and timers that a failed write may nevertheless have filed (a command that timed out
 * can still land). The next write clears them too instead of trusting the older durable record.
 */
export interface Filed {
  tags: readonly string[];
  timers: readonly string[];
}

export function mergeFiled(previous: Filed | null, rec: ActorRecord): Filed {
  const timers = rec.timers ? Object.keys(rec.timers) : [];
  return { tags: union(previous?.tags, rec.tags), timers: union(previous?.timers, timers) };
}

/** Deletes the snapshot and everything filed for it. */
export function removalEntry(
  kind: string,
  id: string,
  before: ActorRecord | null,
  uncertain: Filed | null,
  events: unknown[],
): CommitEntry {
  return {
    kind,
    id,
    record: null,
    removeTags: union(before?.tags, uncertain?.tags),
    addTags: [],
    score: 0,
    removeTimers: union(before?.timers ? Object.keys(before.timers) : [], uncertain?.timers),
    setTimers: [],
    events,
  };
}

/** Writes `rec` (already carrying its tags and score) over `before`. */
export function writeEntry(
  kind: string,
  id: string,
  rec: ActorRecord,
  before: ActorRecord | null,
  uncertain: Filed | null,
  events: unknown[],
): CommitEntry {
  // When unsure what the store holds, restate everything rather than diff against a guess.
  const restate = before === null || before.score !== rec.score || uncertain !== null;
  const sameTags = !restate && before.tags === rec.tags;
  const beforeTags = sameTags ? rec.tags : union(before?.tags, uncertain?.tags);
  // Made only when something is in them: most writes move no timer (every write builds an entry).
  let removeTimers: string[] | null = null;
  let setTimers: Array<readonly [string, number]> | null = null;
  const oldTimers = before?.timers ?? null;
  const newTimers = rec.timers;
  if (oldTimers !== null) {
    for (const name in oldTimers) {
      if (newTimers && Object.hasOwn(newTimers, name)) continue;
      removeTimers ??= [];
      removeTimers.push(name);
    }
  }
  if (uncertain !== null) {
    for (const name of uncertain.timers) {
      if (oldTimers && Object.hasOwn(oldTimers, name)) continue;
      if (newTimers && Object.hasOwn(newTimers, name)) continue;
      removeTimers ??= [];
      removeTimers.push(name);
    }
  }
  if (newTimers) {
    for (const name in newTimers) {
      const at = newTimers[name]!.at;
      if (uncertain === null && oldTimers?.[name]?.at === at) continue;
      setTimers ??= [];
      setTimers.push([name, at]);
    }
  }
  return {
    kind,
    id,
    record: rec,
    removeTags: sameTags ? NONE : without(beforeTags, rec.tags),
    addTags: restate ? rec.tags : sameTags ? NONE : without(rec.tags, beforeTags),
    score: rec.score,
    removeTimers: removeTimers ?? NONE,
    setTimers: setTimers ?? NO_TIMERS,
    events,
  };
}

/** The tags of `from` not in `other`, or NONE. */
function without(from: readonly string[], other: readonly string[]): readonly string[] {
  let kept: string[] | null = null;
  for (const tag of from) {
    if (other.includes(tag)) continue;
    kept ??= [];
    kept.push(tag);
  }
  return kept ?? NONE;
}

const NONE: readonly string[] = Object.freeze([]);
const NO_TIMERS: ReadonlyArray<readonly [string, number]> = Object.freeze([]);

function union(a: readonly string[] | undefined, b: readonly string[] | undefined): readonly string[] {
  if (!b || b.length === 0) return a ?? NONE;
  if (!a || a.length === 0) return b;
  return [...new Set([...a, ...b])];
}

/** The index of an actor whose logic declares none: live, untagged. */
export const LIVE_INDEX: ActorIndex = { live: true };

/**
 * The tags a record is filed under. Most writes leave the index alone; returning the previous array
 * then lets writeEntry skip the tag diff (it compares by identity).
 */
export function indexTags(previous: readonly string[], index: ActorIndex): readonly string[] {
  const extra = index.tags ?? NONE;
  const offset = index.live ? 1 : 0;
  let same = previous.length === extra.length + offset && (!index.live || previous[0] === LIVE_TAG);
  for (let i = 0; same && i < extra.length; i++) same = previous[i + offset] === extra[i];
  if (same) return previous;
  // The index is built afresh for this write (and records are never mutated): no copy needed.
  return index.live ? [LIVE_TAG, ...extra] : extra;
}
