/**
 * The embedded store: everything in this process, nothing durable. Records are kept by reference
 * (actor state is an immutable value), so a commit costs a few map writes and no encoding.
 */

import { randomBytes } from 'node:crypto';
import { MailroomError } from '../../errors.js';
import { innerMap } from '../inner-map.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import type {
  ActorRecord,
  CommitEntry,
  CommitReceipt,
  EventLogInfo,
  ListOptions,
  ListPage,
  LoggedEvent,
  SnapshotStore,
  TimerRef,
  TimerRemoval,
} from './snapshot-store.js';
import { type TagMember, TagMembers } from './tag-members.js';
import { type IndexedTimer, TimersBySecond } from './timers-by-second.js';

export class MemoryStore implements SnapshotStore {
  readonly durable = false;
  readonly name = 'memory';
  /**
   * kind → id → the actor's slot: its record, score and filed timers. Nested maps: a `kind:id` key
   * string would be built and hashed per write. One slot per actor serves all three, because an
   * operation on a map of a million entries costs 300–800 ns here (a cache miss or more per
   * probe): keeping timers and scores in separate maps per actor cost two of those per write.
   */
  private readonly slots = new Map<string, Map<string, Slot>>();
  /**
   * kind → tag → the actors filed under it (tag-members.ts). Filed by what each record's `tags`
   * say, which the entries' tag diffs only restate: the store is in this process, so what it
   * holds is never in doubt.
   */
  private readonly tags = new Map<string, Map<string, TagMembers>>();
  /** The timers by the second they are due in (timers-by-second.ts), the removal timers apart. */
  private readonly timers = new TimersBySecond();
  private readonly removalTimers = new TimersBySecond();
  /** kind → the names of its removal timers. */
  private readonly removalNames = new Map<string, ReadonlySet<string>>();
  /**
   * The event log: a bounded ring of the events themselves, oldest first from `eventsHead`. Seqs
   * are contiguous, so an event's seq is implied by its place (the newest has `lastSeq`) and no
   * wrapper object is kept per event. The epoch changes with every store instance.
   */
  private readonly events: unknown[] = [];
  private eventsHead = 0;
  private lastSeq = 0;
  private readonly epoch = randomBytes(6).toString('hex');
  private closed = false;
  /** Lets tests simulate an unreachable store. */
  failing = false;

  constructor(private readonly eventLogMaxLen = 100_000) {}

  load(kind: string, id: string): Promise<ActorRecord | undefined> {
    if (this.failing || this.closed) return Promise.reject(this.unavailable());
    return Promise.resolve(this.slots.get(kind)?.get(id)?.record ?? undefined);
  }

  commit(entries: readonly CommitEntry[]): Promise<CommitReceipt> {
    if (this.failing || this.closed) return Promise.reject(this.unavailable());
    const eventSeqs: number[] = [];
    for (const entry of entries) {
      for (const event of entry.events) {
        this.lastSeq++;
        this.events.push(event);
        eventSeqs.push(this.lastSeq);
      }
      this.apply(entry);
    }
    this.trimEvents();
    return Promise.resolve({ eventSeqs });
  }

  removeByTimer(firings: readonly TimerRef[]): Promise<TimerRemoval[]> {
    if (this.failing || this.closed) return Promise.reject(this.unavailable());
    const outcomes: TimerRemoval[] = [];
    for (const { kind, id, name, at } of firings) {
      const slot = this.slots.get(kind)?.get(id);
      const timer = slot ? findTimer(slot, name) : null;
      if (!slot || timer?.at !== at) {
        outcomes.push('stale');
        continue;
      }
      // The same judgement the Redis script makes from a record's head (stored-record.ts).
      const record = slot.record;
      if (
        record === null ||
        (record.outbox?.length ?? 0) > 0 ||
        timer.next !== null ||
        slot.timers !== timer
      ) {
        outcomes.push('held');
        continue;
      }
      this.apply({
        kind,
        id,
        record: null,
        removeTags: record.tags,
        addTags: NO_TAGS,
        score: 0,
        removeTimers: [name],
        setTimers: [],
        events: NO_TAGS,
      });
      outcomes.push('removed');
    }
    return Promise.resolve(outcomes);
  }

  private apply(entry: CommitEntry): void {
    const slots = innerMap(this.slots, entry.kind);
    let slot = slots.get(entry.id);
    if (!slot) {
      slot = { id: entry.id, record: null, score: 0, timers: null };
      slots.set(entry.id, slot);
    }
    const before = slot.record?.tags ?? NO_TAGS;
    const rescored = slot.score !== entry.score;
    slot.record = entry.record;
    slot.score = entry.score;
    const after = entry.record?.tags ?? NO_TAGS;
    if (after !== before || rescored) this.refile(entry.kind, slot, before, after, rescored);
    if (entry.removeTimers.length > 0 || entry.setTimers.length > 0) this.fileTimers(slot, entry);
    if (slot.record === null && slot.timers === null) slots.delete(entry.id);
  }

  readEvents(afterSeq: number, limit: number): Promise<LoggedEvent[]> {
    if (this.failing || this.closed) return Promise.reject(this.unavailable());
    const firstSeq = this.firstSeq();
    const read: LoggedEvent[] = [];
    if (firstSeq === 0) return Promise.resolve(read);
    // Seqs are contiguous in the ring, so the start is an index computation, not a search.
    const offset = this.eventsHead - firstSeq;
    const last = Math.min(this.lastSeq, Math.max(afterSeq + 1, firstSeq) + limit - 1);
    for (let seq = Math.max(afterSeq + 1, firstSeq); seq <= last; seq++) {
      read.push({ seq, event: this.events[offset + seq] });
    }
    return Promise.resolve(read);
  }

  eventLogInfo(): Promise<EventLogInfo> {
    if (this.failing || this.closed) return Promise.reject(this.unavailable());
    return Promise.resolve({ epoch: this.epoch, firstSeq: this.firstSeq(), lastSeq: this.lastSeq });
  }

  /** The oldest seq still in the ring, or 0 when it is empty. */
  private firstSeq(): number {
    const count = this.events.length - this.eventsHead;
    return count === 0 ? 0 : this.lastSeq - count + 1;
  }

  private trimEvents(): void {
    const excess = this.events.length - this.eventsHead - this.eventLogMaxLen;
    if (excess <= 0) return;
    // Trimmed events are let go now, not when the array is next compacted.
    this.events.fill(undefined, this.eventsHead, this.eventsHead + excess);
    this.eventsHead += excess;
    if (this.eventsHead > 4096 && this.eventsHead * 2 > this.events.length) {
      this.events.splice(0, this.eventsHead);
      this.eventsHead = 0;
    }
  }

  list(kind: string, tag: string, options: ListOptions): Promise<ListPage> {
    if (this.failing || this.closed) return Promise.reject(this.unavailable());
    const members = this.tags.get(kind)?.get(tag);
    if (!members) return Promise.resolve({ ids: [], scores: [], next: null });
    const sign = options.descending ? -1 : 1;
    const after = options.cursor ? decodeCursor(options.cursor) : null;
    const page = members.page(sign, after, options.limit + 1);
    const more = page.length > options.limit;
    if (more) page.length = options.limit;
    const last = page[page.length - 1];
    const next = more && last ? encodeCursor(last.score, last.id) : null;
    return Promise.resolve({
      ids: page.map((entry) => entry.id),
      scores: page.map((entry) => entry.score),
      next,
    });
  }

  count(kind: string, tag: string, minScore?: number): Promise<number> {
    if (this.failing || this.closed) return Promise.reject(this.unavailable());
    const members = this.tags.get(kind)?.get(tag);
    if (!members || minScore === undefined) return Promise.resolve(members?.size ?? 0);
    return Promise.resolve(members.countFrom(minScore));
  }

  loadTimers(until: number, after = Number.NEGATIVE_INFINITY): Promise<TimerRef[]> {
    if (this.failing || this.closed) return Promise.reject(this.unavailable());
    const due = this.timers.within(after, until);
    due.sort((a, b) => a.at - b.at);
    return Promise.resolve(due);
  }

  useRemovalTimers(kind: string, names: readonly string[]): void {
    this.removalNames.set(kind, new Set(names));
  }

  loadRemovalTimers(until: number, after: TimerRef | null, limit: number): Promise<TimerRef[]> {
    if (this.failing || this.closed) return Promise.reject(this.unavailable());
    return Promise.resolve(this.removalTimers.page(until, after, limit));
  }

  ping(): Promise<void> {
    return this.failing || this.closed ? Promise.reject(this.unavailable()) : Promise.resolve();
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  /** Files the entry's timer changes in its actor's chain and under the seconds they are due in. */
  private fileTimers(slot: Slot, entry: CommitEntry): void {
    for (const name of entry.removeTimers) {
      const timer = unlinkTimer(slot, name);
      if (timer) this.indexOf(timer).unfile(timer);
    }
    for (const [name, at] of entry.setTimers) {
      const existing = findTimer(slot, name);
      if (existing?.at === at) continue;
      if (existing) this.indexOf(existing).unfile(unlinkTimer(slot, name)!);
      const removal = this.removalNames.get(entry.kind)?.has(name) === true;
      const timer: FiledTimer = {
        kind: entry.kind,
        id: entry.id,
        name,
        at,
        removal,
        live: true,
        next: slot.timers,
      };
      slot.timers = timer;
      this.indexOf(timer).file(timer);
    }
  }

  /** The index the timer is filed in. */
  private indexOf(timer: FiledTimer): TimersBySecond {
    return timer.removal ? this.removalTimers : this.timers;
  }

  /**
   * Moves the actor from the tags its record left to the ones it now has; a rescored actor
   * leaves and joins again the ones it keeps, so each tag's entries keep the score they list by.
   */
  private refile(
    kind: string,
    slot: Slot,
    before: readonly string[],
    after: readonly string[],
    rescored: boolean,
  ): void {
    const byTag = innerMap(this.tags, kind);
    for (const tag of before) {
      const stays = after.includes(tag);
      if (stays && !rescored) continue;
      const members = byTag.get(tag);
      if (!members) continue;
      members.leave();
      // Tags come and go with their actors (`workflow:<id>`): an empty one is let go.
      if (members.size === 0 && !stays) byTag.delete(tag);
    }
    for (const tag of after) {
      if (before.includes(tag) && !rescored) continue;
      let members = byTag.get(tag);
      if (!members) {
        members = new TagMembers(tag);
        byTag.set(tag, members);
      }
      members.join(slot);
    }
  }

  private unavailable(): MailroomError {
    return new MailroomError(
      'STORE_UNAVAILABLE',
      this.closed ? 'the memory store is closed' : 'the store is unreachable',
    );
  }
}

const NO_TAGS: readonly string[] = Object.freeze([]);

/** What the store keeps for one actor. */
interface Slot extends TagMember {
  readonly id: string;
  /** Null while only timers remain filed for the actor. */
  record: ActorRecord | null;
  score: number;
  /** The actor's timers, newest first (an actor has few: usually one). */
  timers: FiledTimer | null;
}

/** One filed timer: in its actor's chain (found by name) and in its second's list (found by time). */
interface FiledTimer extends IndexedTimer {
  readonly kind: string;
  readonly id: string;
  readonly name: string;
  readonly at: number;
  /** Filed with the removal timers (`useRemovalTimers`). */
  readonly removal: boolean;
  next: FiledTimer | null;
}

function findTimer(slot: Slot, name: string): FiledTimer | null {
  for (let timer = slot.timers; timer !== null; timer = timer.next) if (timer.name === name) return timer;
  return null;
}

/** Takes the named timer out of the actor's chain and returns it, or null if none is filed. */
function unlinkTimer(slot: Slot, name: string): FiledTimer | null {
  let previous: FiledTimer | null = null;
  for (let timer = slot.timers; timer !== null; timer = timer.next) {
    if (timer.name === name) {
      if (previous) previous.next = timer.next;
      else slot.timers = timer.next;
      timer.next = null;
      return timer;
    }
    previous = timer;
  }
  return null;
}
