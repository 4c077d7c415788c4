/**
 * The actors filed under one tag in the embedded store: an array appended to when an actor joins
 * and left alone when one leaves. A map of half a million ids cost 300–800 ns per insert here (a
 * cache miss or more per probe), and an echo job joins three tags that only grow (`all`, its type,
 * `status:completed`); a push is ~25 ns. Who left is told by the actor's record (its `tags` no
 * longer name this one), so a scan skips them, and the array is compacted once more than half of
 * it is such leftovers. An actor that left and joined again is in the array twice until then;
 * scans drop the second sighting.
 */

/** An actor as the index sees it: its id, its listing score and the tags its record is filed under. */
export interface TagMember {
  readonly id: string;
  score: number;
  record: { readonly tags: readonly string[] } | null;
}

/** Below this many leftovers a compaction is not worth a pass. */
const MIN_LEFTOVERS = 1_024;

export class TagMembers {
  private members: TagMember[] = [];
  /** Actors under the tag now. */
  size = 0;
  /** Leaves since the last compaction. While none, every entry is current and unique. */
  private left = 0;

  constructor(private readonly tag: string) {}

  join(member: TagMember): void {
    this.members.push(member);
    this.size++;
  }

  leave(): void {
    this.size--;
    this.left++;
    if (this.members.length - this.size > this.size + MIN_LEFTOVERS) this.compact();
  }

  /** Calls `visit` once for every actor under the tag, in no particular order. */
  forEach(visit: (member: TagMember) => void): void {
    if (this.left === 0) {
      for (const member of this.members) visit(member);
      return;
    }
    const seen = new Set<TagMember>();
    for (const member of this.members) {
      if (!this.holds(member) || seen.has(member)) continue;
      seen.add(member);
      visit(member);
    }
  }

  private holds(member: TagMember): boolean {
    return member.record?.tags.includes(this.tag) === true;
  }

  private compact(): void {
    const kept: TagMember[] = [];
    this.forEach((member) => {
      kept.push(member);
    });
    this.members = kept;
    this.size = kept.length;
    this.left = 0;
  }
}
