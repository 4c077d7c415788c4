/**
 * The half of a cell that keeps its record in step with the store. Versions count record changes;
 * `durableVersion` is the newest one the store has acknowledged, and effects wait in `pending`
 * until it reaches the version that produced them. The group commit takes the cell's part of a
 * write from here and reports how it went. ActorCell (cell.ts) adds the mailbox and the turns.
 */
import { MailroomError } from '../errors.js';
import type { ActorLogic } from './actor.js';
import { initialRecord, PHASE_LOADING, PHASE_READY, PHASE_STOPPED } from './cell-host.js';
import { type Filed, indexTags, LIVE_INDEX, mergeFiled, removalEntry, writeEntry } from './commit-entry.js';
import type { Effect } from './effects.js';
import { EFFECT_EMIT } from './effects.js';
import type { ActorRecord, CommitEntry } from './store/snapshot-store.js';

export abstract class DurableCell {
  phase = PHASE_LOADING;
  rec: ActorRecord;
  /** The record the store holds; null when nothing was ever stored. */
  durable: ActorRecord | null = null;
  version = 0;
  durableVersion = 0;
  /** Version being written by the commit in flight, or -1. */
  committingVersion = -1;
  private committingRec: ActorRecord | null = null;
  private committingRemoval = false;
  /** Emit effects whose events ride in the commit in flight; they get their log seq from it. */
  private committingEvents: Effect[] | null = null;
  protected pending: Effect[] | null = null;
  /** remove() was called and not yet committed; `rec` is already the fresh actor. */
  private removing = false;
  private removedAtVersion = 0;
  /** Index tags and timers a failed (possibly applied) write may have filed. */
  private maybeWritten: Filed | null = null;
  /**
   * `rec` holds changes that wait for the next write instead of forcing one (deferred turns,
   * confirmed outbox entries). Losing them in a crash costs a redelivery the receiver drops, or a
   * detail later messages restore; they are written before the actor leaves memory.
   */
  protected unwritten = false;

  constructor(
    readonly kind: string,
    readonly id: string,
    readonly logic: ActorLogic<unknown, unknown>,
  ) {
    this.rec = initialRecord(undefined);
  }

  /** Puts the cell in line for the next group commit. */
  protected abstract markDirty(): void;
  /** Runs an effect whose state is durable. */
  protected abstract perform(item: Effect): void;
  /** Drops an effect that will never run (its state was not made durable). */
  protected abstract abandon(item: Effect, error: MailroomError): void;
  /** A write settled (`reverted`: it failed, and `rec` is the durable record again): what next. */
  protected abstract afterCommitSettled(reverted: boolean): void;

  get isDirty(): boolean {
    return this.version !== this.durableVersion || this.removing;
  }

  get isCommitting(): boolean {
    return this.committingVersion >= 0;
  }

  /** Writes changes that were waiting for a write of their own (before passivation or shutdown). */
  writeUnwritten(): void {
    if (!this.unwritten || this.phase !== PHASE_READY || this.isDirty) return;
    this.changed();
  }

  protected changed(): void {
    if (this.logic.ephemeral) return;
    this.version++;
    this.markDirty();
  }

  protected deferChange(): void {
    if (!this.logic.ephemeral) this.unwritten = true;
  }

  /** Runs effects now when nothing is waiting to be durable, else holds them for the commit. */
  protected queueEffects(effects: Effect[]): void {
    if (this.logic.ephemeral || (this.version === this.durableVersion && this.pending === null)) {
      for (const item of effects) this.perform(item);
      return;
    }
    this.pending ??= [];
    for (const item of effects) {
      item.version = this.version;
      this.pending.push(item);
    }
  }

  /**
   * The actor removed itself: `fresh` (a new actor that kept only its delivery bookkeeping)
   * replaces it, and the next write deletes the snapshot unless something happens before.
   */
  protected replaceWithFresh(fresh: ActorRecord): void {
    this.rec = fresh;
    this.removing = true;
    this.changed();
    this.removedAtVersion = this.version;
  }

  /** Called when the cell leaves memory for good (stop directive, shutdown). */
  markStopped(): void {
    this.phase = PHASE_STOPPED;
    const error = new MailroomError('ACTOR_STOPPED');
    this.dropPending(
      (item) => item.version > (this.isCommitting ? this.committingVersion : this.durableVersion),
      error,
    );
  }

  protected discardUndurable(error: MailroomError): void {
    this.dropPending(() => true, error);
    this.rec = this.durable ?? initialRecord(this.logic.initial(this.id));
    this.version = this.durableVersion;
    this.removing = false;
    this.unwritten = false;
  }

  private dropPending(which: (item: Effect) => boolean, error: MailroomError): void {
    if (!this.pending) return;
    const kept: Effect[] = [];
    for (const item of this.pending) {
      if (which(item)) this.abandon(item, error);
      else kept.push(item);
    }
    this.pending = kept.length > 0 ? kept : null;
  }

  /** Builds this cell's part of a group commit, or null when there is nothing to write. */
  beginCommit(): CommitEntry | null {
    if (this.phase === PHASE_STOPPED || this.phase === PHASE_LOADING || !this.isDirty) return null;
    this.committingVersion = this.version;
    // This write carries whatever was waiting; should it fail, `rec` reverts to the durable record.
    this.unwritten = false;
    const events = this.collectEvents();
    // Nothing happened since remove() and nothing is left to deliver: delete the snapshot. Otherwise
    // the fresh actor's record replaces the old one, and the diff drops the old index entries.
    if (this.removing && this.version === this.removedAtVersion && this.rec.outbox === null) {
      this.committingRemoval = true;
      this.committingRec = null;
      return removalEntry(this.kind, this.id, this.durable, this.maybeWritten, events);
    }
    const index = this.logic.index ? this.logic.index(this.rec.state) : LIVE_INDEX;
    const tags = indexTags(this.rec.tags, index);
    const score = index.score ?? 0;
    const before = this.rec;
    // Spelled out rather than spread with two of its own keys after (see outbox.ts withConfirmed).
    const rec: ActorRecord =
      tags === before.tags && score === before.score
        ? before
        : {
            state: before.state,
            timers: before.timers,
            outbox: before.outbox,
            outSeq: before.outSeq,
            inSeq: before.inSeq,
            tags,
            score,
          };
    this.rec = rec;
    this.committingRec = rec;
    return writeEntry(this.kind, this.id, rec, this.durable, this.maybeWritten, events);
  }

  /** Events emitted since the last write go into this one, so state and log change together. */
  private collectEvents(): unknown[] {
    if (!this.pending) return [];
    let emits: Effect[] | null = null;
    for (const item of this.pending) {
      if (item.op !== EFFECT_EMIT || item.seq !== 0) continue;
      emits ??= [];
      emits.push(item);
    }
    this.committingEvents = emits;
    return emits ? emits.map((item) => item.value) : [];
  }

  get committingEventCount(): number {
    return this.committingEvents?.length ?? 0;
  }

  commitSucceeded(eventSeqs: readonly number[]): void {
    if (this.committingEvents) {
      this.committingEvents.forEach((item, i) => {
        item.seq = eventSeqs[i] ?? 0;
      });
      this.committingEvents = null;
    }
    const committed = this.committingVersion;
    this.committingVersion = -1;
    if (this.committingRemoval) {
      this.committingRemoval = false;
      // The snapshot is gone; `rec` already holds the fresh actor.
      this.durable = null;
    } else {
      this.durable = this.committingRec;
    }
    this.removing = false;
    this.maybeWritten = null;
    this.committingRec = null;
    this.durableVersion = committed;
    this.releaseDurable();
    this.afterCommitSettled(false);
  }

  commitFailed(error: MailroomError): void {
    this.committingVersion = -1;
    this.committingEvents = null;
    // A write that timed out may still have landed: remember what it filed, so the next commit
    // also clears those index entries and timers instead of trusting the older durable record.
    if (this.committingRec) this.maybeWritten = mergeFiled(this.maybeWritten, this.committingRec);
    this.committingRec = null;
    this.committingRemoval = false;
    this.discardUndurable(error);
    this.afterCommitSettled(true);
  }

  private releaseDurable(): void {
    const pending = this.pending;
    if (!pending) return;
    let released = 0;
    while (released < pending.length && pending[released]!.version <= this.durableVersion) {
      this.perform(pending[released]!);
      released++;
    }
    this.pending = released === pending.length ? null : pending.slice(released);
  }
}
