/**
 * The actors filed under one tag in the embedded store, and the tag's listing pages.
 *
 * An array appended to when an actor joins and left alone when one leaves. A map of half a million
 * ids cost 300–800 ns per insert here (a cache miss or more per probe), and an echo job joins
 * three tags that only grow (`all`, its type, `status:completed`); a push is ~25 ns. Who left is
 * told by the actor's record (its `tags` no longer name this one) and by its score (a rescored
 * actor leaves and joins again), so reads skip them, and the array is compacted once more than
 * half of it is such leftovers. An actor that left and joined again is in the array twice until
 * then; reads drop the second sighting.
 *
 * Each entry keeps the score it joined with. While those never decrease along the array, a page is
 * found by binary search and read in order; otherwise it takes a pass over every entry. Jobs join
 * `all` and their type in creation order, scored by creation time; they reach a status a little
 * out of that order (7 of 60,000 finished echo jobs, at most 109 places back), so an entry that
 * belongs a little way back is put there rather than giving the order up.
 */

/** An actor as the index sees it: its id, its listing score and the tags its record is filed under. */
export interface TagMember {
  readonly id: string;
  score: number;
  record: { readonly tags: readonly string[] } | null;
}

export interface Ranked {
  id: string;
  score: number;
}

/** Below this many leftovers a compaction is not worth a pass. */
const MIN_LEFTOVERS = 1_024;
/** How far back from the end a late entry is put in its place, keeping the scores in order. */
const INSERT_WITHIN = 1_024;

export class TagMembers {
  private members: TagMember[] = [];
  /** The score of each entry when it joined, in the same order. */
  private scores: number[] = [];
  /** Actors under the tag now. */
  size = 0;
  /** Leaves since the last compaction. While none, every entry is current and unique. */
  private left = 0;
  /** Entry scores never decrease along the array (equal ones in any order). */
  private ordered = true;

  constructor(
    private readonly tag: string,
    private readonly insertWithin = INSERT_WITHIN,
  ) {}

  join(member: TagMember): void {
    this.size++;
    const scores = this.scores;
    const score = member.score;
    if (this.ordered && scores.length > 0 && score < scores[scores.length - 1]!) {
      const at = firstAbove(scores, score);
      if (scores.length - at <= this.insertWithin) {
        this.members.splice(at, 0, member);
        scores.splice(at, 0, score);
        return;
      }
      this.ordered = false;
    }
    this.members.push(member);
    scores.push(score);
  }

  leave(): void {
    this.size--;
    this.left++;
    if (this.members.length - this.size > this.size + MIN_LEFTOVERS) this.compact();
  }

  /** Calls `visit` once for every actor under the tag, in no particular order. */
  forEach(visit: (id: string, score: number) => void): void {
    const seen = this.left > 0 ? new Set<TagMember>() : null;
    for (let i = 0; i < this.members.length; i++) {
      const member = this.members[i]!;
      if (seen !== null) {
        if (!this.holds(i) || seen.has(member)) continue;
        seen.add(member);
      }
      visit(member.id, this.scores[i]!);
    }
  }

  /** Actors under the tag scored at least `minScore`. */
  countFrom(minScore: number): number {
    if (this.ordered && this.left === 0) return this.scores.length - firstAtLeast(this.scores, minScore);
    let n = 0;
    this.forEach((_, score) => {
      if (score >= minScore) n++;
    });
    return n;
  }

  /**
   * The first `count` actors strictly after `after` in listing order: by score (ascending for
   * `sign` 1, descending for -1), then by id the same way.
   */
  page(sign: number, after: Ranked | null, count: number): Ranked[] {
    return this.ordered ? this.pageInOrder(sign, after, count) : this.pageByScan(sign, after, count);
  }

  /** Entry `i` is a current member: its actor still has the tag and the score it joined with. */
  private holds(i: number): boolean {
    const member = this.members[i]!;
    return member.score === this.scores[i] && member.record?.tags.includes(this.tag) === true;
  }

  private compact(): void {
    const members: TagMember[] = [];
    const scores: number[] = [];
    const seen = new Set<TagMember>();
    let ordered = true;
    for (let i = 0; i < this.members.length; i++) {
      const member = this.members[i]!;
      if (!this.holds(i) || seen.has(member)) continue;
      seen.add(member);
      const score = this.scores[i]!;
      if (scores.length > 0 && score < scores[scores.length - 1]!) ordered = false;
      members.push(member);
      scores.push(score);
    }
    this.members = members;
    this.scores = scores;
    this.size = members.length;
    this.left = 0;
    this.ordered = ordered;
  }

  /** Binary search to the cursor, then groups of equal score in order, each sorted by id. */
  private pageInOrder(sign: number, after: Ranked | null, count: number): Ranked[] {
    const scores = this.scores;
    const page: Ranked[] = [];
    const seen = this.left > 0 ? new Set<TagMember>() : null;
    if (sign > 0) {
      let from = after ? firstAtLeast(scores, after.score) : 0;
      while (from < scores.length && page.length < count) {
        let to = from + 1;
        while (to < scores.length && scores[to] === scores[from]) to++;
        this.readGroup(from, to, sign, after, seen, page, count);
        from = to;
      }
    } else {
      let to = after ? firstAbove(scores, after.score) : scores.length;
      while (to > 0 && page.length < count) {
        let from = to - 1;
        while (from > 0 && scores[from - 1] === scores[to - 1]) from--;
        this.readGroup(from, to, sign, after, seen, page, count);
        to = from;
      }
    }
    return page;
  }

  /** Adds the members of entries `from`..`to` (one score) after the cursor to `page`, in order. */
  private readGroup(
    from: number,
    to: number,
    sign: number,
    after: Ranked | null,
    seen: Set<TagMember> | null,
    page: Ranked[],
    count: number,
  ): void {
    const group: Ranked[] = [];
    for (let i = from; i < to; i++) {
      const member = this.members[i]!;
      if (seen !== null) {
        if (!this.holds(i) || seen.has(member)) continue;
        seen.add(member);
      }
      const entry = { id: member.id, score: this.scores[i]! };
      if (after && compare(sign, entry, after) <= 0) continue;
      group.push(entry);
    }
    if (group.length > 1) group.sort((a, b) => compare(sign, a, b));
    for (const entry of group) {
      if (page.length === count) return;
      page.push(entry);
    }
  }

  /**
   * One pass keeping the first `count` past the cursor in a bounded max-heap (the last in order on
   * top): O(n log count), instead of sorting the whole tag per page.
   */
  private pageByScan(sign: number, after: Ranked | null, count: number): Ranked[] {
    const heap: Ranked[] = [];
    const later = (a: Ranked, b: Ranked) => compare(sign, a, b) > 0;
    this.forEach((id, score) => {
      const entry = { id, score };
      if (after && compare(sign, entry, after) <= 0) return;
      if (heap.length === count) {
        if (!later(heap[0]!, entry)) return;
        // Replace the last-in-order entry and sift it down.
        let i = 0;
        for (;;) {
          const left = 2 * i + 1;
          if (left >= count) break;
          const right = left + 1;
          const child = right < count && later(heap[right]!, heap[left]!) ? right : left;
          if (!later(heap[child]!, entry)) break;
          heap[i] = heap[child]!;
          i = child;
        }
        heap[i] = entry;
        return;
      }
      let i = heap.length;
      heap.push(entry);
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!later(entry, heap[parent]!)) break;
        heap[i] = heap[parent]!;
        i = parent;
      }
      heap[i] = entry;
    });
    return heap.sort((a, b) => compare(sign, a, b));
  }
}

/** Listing order: by score (times sign), then by id; negative when `a` comes first. */
function compare(sign: number, a: Ranked, b: Ranked): number {
  return sign * (a.score - b.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The first index whose score is at least `score` (scores in non-decreasing order). */
function firstAtLeast(scores: readonly number[], score: number): number {
  let low = 0;
  let high = scores.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (scores[middle]! < score) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** The first index whose score is above `score` (scores in non-decreasing order). */
function firstAbove(scores: readonly number[], score: number): number {
  let low = 0;
  let high = scores.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (scores[middle]! <= score) low = middle + 1;
    else high = middle;
  }
  return low;
}
