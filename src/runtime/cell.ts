/**
 * One actor in memory: its record, mailbox and the bookkeeping that makes "effects only after
 * the state is durable" true. Versions count record changes; `durableVersion` is the newest one
 * the store has acknowledged, and effects wait until it reaches the version that produced them.
 */
import { MailroomError } from '../errors.js';
import type { ActorLogic } from './actor.js';
import {
  type CellHost,
  initialRecord,
  PHASE_BUSY,
  PHASE_LOADING,
  PHASE_READY,
  PHASE_STOPPED,
} from './cell-host.js';
import { type Filed, indexTags, LIVE_INDEX, mergeFiled, removalEntry, writeEntry } from './commit-entry.js';
import type { Effect } from './effects.js';
import { EFFECT_CONFIRM, EFFECT_EMIT, EFFECT_REPLY, EFFECT_REPLY_ERROR, effect } from './effects.js';
import type { Envelope } from './envelope.js';
import { SYS_CONFIRM, SYS_TIMER } from './envelope.js';
import type { Mailbox } from './mailbox.js';
import { resendEffects, withConfirmed, withRedeliveryRearmed } from './outbox.js';
import type { Runnable } from './scheduler.js';
import { withSeq } from './seq-table.js';
import type { ActorRecord, CommitEntry } from './store/snapshot-store.js';
import type { DeadLetterReason, Directive } from './supervisor.js';
import { defaultStrategy } from './supervisor.js';
import { REDELIVER_TIMER, TurnContext } from './turn-context.js';

export type { CellHost } from './cell-host.js';
export { initialRecord, PHASE_BUSY, PHASE_LOADING, PHASE_READY, PHASE_STOPPED } from './cell-host.js';

export class ActorCell implements Runnable {
  queued = false;
  inDirtyList = false;
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
  mailbox: Mailbox<Envelope> | null = null;
  private pending: Effect[] | null = null;
  /** remove() was called and not yet committed; `rec` is already the fresh actor. */
  private removing = false;
  private removedAtVersion = 0;
  /** Index tags and timers a failed (possibly applied) write may have filed. */
  private maybeWritten: Filed | null = null;
  private restartRequested = false;
  /**
   * `rec` holds changes that wait for the next write instead of forcing one (deferred turns,
   * confirmed outbox entries). Losing them in a crash costs a redelivery the receiver drops, or a
   * detail later messages restore; they are written before the actor leaves memory.
   */
  private unwritten = false;
  lastActive = 0;
  lruPrev: ActorCell | null = null;
  lruNext: ActorCell | null = null;
  lruMovedAt = 0;
  /**
   * The latest deadline armed in memory while this cell was resident. Firings are not withdrawn
   * when a timer is cancelled (they are dropped as stale, which needs the actor's timers to see),
   * so a finished cell that leaves before then leaves its timers with the system.
   */
  private armedUntil = 0;
  private refKeyCache: string | null = null;

  constructor(
    readonly kind: string,
    readonly id: string,
    readonly logic: ActorLogic<unknown, unknown>,
    private readonly host: CellHost,
  ) {
    this.rec = initialRecord(undefined);
  }

  /** `kind:id`, built on first use: it tags every reliable message and confirmation this cell sends. */
  get key(): string {
    this.refKeyCache ??= `${this.kind}:${this.id}`;
    return this.refKeyCache;
  }

  get isDirty(): boolean {
    return this.version !== this.durableVersion || this.removing;
  }

  get isCommitting(): boolean {
    return this.committingVersion >= 0;
  }

  /** True when nothing would be lost by dropping this cell from memory. */
  get canPassivate(): boolean {
    return this.isSettled && !this.inDirtyList && !this.unwritten;
  }

  /**
   * Nothing queued, running or waiting to be written: `rec.state` is what a `get` turn would reply
   * (deferred changes included, as a turn would see them).
   */
  get isSettled(): boolean {
    return (
      this.phase === PHASE_READY &&
      !this.queued &&
      !this.isDirty &&
      !this.isCommitting &&
      this.pending === null &&
      (this.mailbox === null || this.mailbox.size === 0)
    );
  }

  /** Writes changes that were waiting for a write of their own (before passivation or shutdown). */
  writeUnwritten(): void {
    if (!this.unwritten || this.phase !== PHASE_READY || this.isDirty) return;
    this.changed();
  }

  /** Installs the loaded record (or the initial state) and starts serving the mailbox. */
  activate(loaded: ActorRecord | undefined): void {
    this.rec = loaded ?? initialRecord(this.logic.initial(this.id));
    this.durable = loaded ?? null;
    this.version = 0;
    this.durableVersion = 0;
    this.phase = PHASE_READY;
    this.restartRequested = false;
    if (this.rec.timers) {
      for (const name in this.rec.timers) this.armTimer(name, this.rec.timers[name]!.at);
    }
    if (this.hasWork()) this.host.schedule(this);
  }

  hasWork(): boolean {
    return this.phase === PHASE_READY && this.mailbox !== null && this.mailbox.size > 0;
  }

  runSlice(max: number): number {
    let done = 0;
    const mailbox = this.mailbox;
    if (!mailbox) return 0;
    // One clock read per slice: the messages of a slice are microseconds apart, and reading the
    // clock per message cost a fifth of the scheduler's time. `lastActive` doubles as the turn time.
    this.lastActive = this.host.now();
    while (done < max && this.phase === PHASE_READY) {
      const env = mailbox.next();
      if (!env) break;
      done++;
      this.handle(env);
    }
    return done;
  }

  private handle(env: Envelope): void {
    if (env.sys === SYS_CONFIRM) {
      this.onConfirm(env.from!, env.seq);
      return;
    }
    if (env.sys === SYS_TIMER) {
      const name = env.msg as string;
      const timer = this.rec.timers?.[name];
      // Heap entries are never removed on cancel or re-arm; a firing that no longer matches is stale.
      if (!timer || timer.at !== env.timerAt) return;
      if (name === REDELIVER_TIMER) {
        this.redeliver();
        return;
      }
      this.invoke(env, timer.msg, name);
      return;
    }
    if (env.from !== null) {
      const last = this.rec.inSeq?.get(env.from) ?? 0;
      if (env.seq <= last) {
        // Already handled: confirm again (the first confirmation may have been lost), once durable.
        this.queueEffects([effect(EFFECT_CONFIRM, null, env.from, null, env.seq)]);
        return;
      }
      if (env.seq > last + 1) {
        // An earlier message on this channel is missing; the sender redelivers everything in order.
        this.host.deadLetter(this, 'gap', env);
        return;
      }
    }
    this.invoke(env, env.msg, null);
  }

  private invoke(env: Envelope, msg: unknown, firedTimer: string | null): void {
    const ctx = new TurnContext<unknown>(
      this.kind,
      this.id,
      this.rec,
      env,
      this.lastActive,
      this.host.redeliverMs,
      this.host.confirmedDelivery,
    );
    if (firedTimer !== null) delete ctx.draftTimers()[firedTimer];
    let result: unknown;
    try {
      result = this.logic.receive(this.rec.state, msg, ctx);
    } catch (error) {
      this.fail(env, msg, error);
      return;
    }
    if (
      result !== null &&
      typeof result === 'object' &&
      typeof (result as Promise<unknown>).then === 'function'
    ) {
      this.phase = PHASE_BUSY;
      this.host.busyChanged(1);
      (result as Promise<unknown>).then(
        (state) => this.settleAsync(() => this.apply(env, state, ctx)),
        (error: unknown) => this.settleAsync(() => this.fail(env, msg, error)),
      );
      return;
    }
    this.apply(env, result, ctx);
  }

  private settleAsync(finish: () => void): void {
    this.host.busyChanged(-1);
    if (this.phase !== PHASE_BUSY) return;
    this.phase = PHASE_READY;
    finish();
    if (this.hasWork()) this.host.schedule(this);
  }

  private apply(env: Envelope, state: unknown, ctx: TurnContext<unknown>): void {
    const rec = this.rec;
    let inSeq = rec.inSeq;
    if (env.from !== null) {
      inSeq = withSeq(inSeq, env.from, env.seq);
      ctx.push(effect(EFFECT_CONFIRM, null, env.from, null, env.seq));
    }
    if (env.ask !== null && !ctx.replied) ctx.push(effect(EFFECT_REPLY, null, undefined, env.ask));
    if (ctx.removeRequested) {
      // The actor's life is over: later turns see a fresh actor. Delivery bookkeeping survives, so
      // reliable channels to and from this id keep their sequence numbers and unconfirmed messages.
      const timers = ctx.timers === null ? rec.timers : ctx.timers;
      const redeliver = timers?.[REDELIVER_TIMER];
      this.rec = {
        ...initialRecord(this.logic.initial(this.id)),
        timers: redeliver ? { [REDELIVER_TIMER]: redeliver } : null,
        outbox: ctx.outbox ?? rec.outbox,
        outSeq: ctx.outSeq ?? rec.outSeq,
        inSeq,
      };
      this.removing = true;
      this.changed();
      this.removedAtVersion = this.version;
    } else if (
      ctx.deferred &&
      ctx.effects === null &&
      ctx.immediate === null &&
      ctx.timers === null &&
      ctx.outbox === null &&
      inSeq === rec.inSeq
    ) {
      if (state !== rec.state) {
        this.rec = { ...rec, state };
        this.deferChange();
      }
      return;
    } else if (
      state !== rec.state ||
      ctx.timers !== null ||
      ctx.outbox !== null ||
      inSeq !== rec.inSeq ||
      ctx.emitted
    ) {
      this.rec = {
        state,
        timers: ctx.timers === null ? rec.timers : nonEmpty(ctx.timers),
        outbox: ctx.outbox ?? rec.outbox,
        outSeq: ctx.outSeq ?? rec.outSeq,
        inSeq,
        tags: rec.tags,
        score: rec.score,
      };
      if (ctx.timers !== null) {
        for (const name in ctx.timers) {
          if (rec.timers?.[name]?.at !== ctx.timers[name]!.at) this.armTimer(name, ctx.timers[name]!.at);
        }
      }
      this.changed();
    }
    if (ctx.effects !== null) this.queueEffects(ctx.effects);
    if (ctx.immediate !== null) for (const item of ctx.immediate) this.host.perform(this, item);
  }

  private armTimer(name: string, at: number): void {
    if (this.host.armTimer(this, name, at) && at > this.armedUntil) this.armedUntil = at;
  }

  private changed(): void {
    if (this.logic.ephemeral) return;
    this.version++;
    this.host.markDirty(this);
  }

  private deferChange(): void {
    if (!this.logic.ephemeral) this.unwritten = true;
  }

  /** Runs effects now when nothing is waiting to be durable, else holds them for the commit. */
  private queueEffects(effects: Effect[]): void {
    if (this.logic.ephemeral || (this.version === this.durableVersion && this.pending === null)) {
      for (const item of effects) this.host.perform(this, item);
      return;
    }
    this.pending ??= [];
    for (const item of effects) {
      item.version = this.version;
      this.pending.push(item);
    }
  }

  private onConfirm(receiverKey: string, seq: number): void {
    const next = withConfirmed(this.rec, receiverKey, seq);
    if (!next) return;
    this.rec = next;
    // A finished actor whose last message was confirmed has nothing left to do: written now, it
    // leaves memory after the write instead of waiting out its idle time for the same write.
    if (next.outbox === null && this.logic.finished?.(next.state) === true) {
      this.changed();
      return;
    }
    // Not worth a write of its own: until the next one, a crash only means a redelivery that the
    // receiver recognizes as a duplicate and confirms again.
    this.deferChange();
  }

  private redeliver(): void {
    const outbox = this.rec.outbox;
    const at = this.host.now() + this.host.redeliverMs;
    this.rec = withRedeliveryRearmed(this.rec, at);
    if (this.rec.timers?.[REDELIVER_TIMER]) this.armTimer(REDELIVER_TIMER, at);
    this.changed();
    if (outbox) this.queueEffects(resendEffects(outbox));
  }

  private fail(env: Envelope, msg: unknown, error: unknown): void {
    const strategy = this.logic.supervisor ?? defaultStrategy;
    let directive: Directive;
    try {
      directive = strategy.decide(error, msg, env.attempt + 1);
    } catch {
      directive = 'stop';
    }
    const failure = new MailroomError(
      'ACTOR_FAILED',
      error instanceof Error ? error.message : String(error),
      {
        cause: error,
      },
    );
    switch (directive) {
      case 'resume':
        this.giveUp(env, 'resumed', failure);
        return;
      case 'restart':
        env.attempt++;
        if (env.attempt > strategy.maxRetries) {
          this.giveUp(env, 'poison', failure);
          return;
        }
        this.mailbox!.requeueFront(env);
        this.restart();
        return;
      case 'escalate':
        this.host.escalate(this, error, msg);
        this.host.deadLetter(this, 'stopped', env, error);
        if (env.ask) this.host.abandon(this, effect(EFFECT_REPLY, null, undefined, env.ask), failure);
        this.host.stop(this);
        return;
      default:
        this.host.deadLetter(this, 'stopped', env, error);
        if (env.ask) this.host.abandon(this, effect(EFFECT_REPLY, null, undefined, env.ask), failure);
        this.host.stop(this);
    }
  }

  /** Skips a message that will never succeed; a reliable one is marked handled so it stops coming. */
  private giveUp(env: Envelope, reason: DeadLetterReason, failure: MailroomError): void {
    this.host.deadLetter(this, reason, env, failure.cause);
    const effects: Effect[] = [];
    if (env.ask) {
      effects.push(effect(EFFECT_REPLY_ERROR, null, undefined, env.ask, 0, failure));
    }
    if (env.from !== null && env.sys !== SYS_TIMER) {
      this.rec = { ...this.rec, inSeq: withSeq(this.rec.inSeq, env.from, env.seq) };
      this.changed();
      effects.push(effect(EFFECT_CONFIRM, null, env.from, null, env.seq));
    }
    // A dead-lettered timer is done too: left in the record, it fired again on every activation
    // and recovery (and, after a restart, from the heap entry that activation re-armed).
    if (env.sys === SYS_TIMER && this.rec.timers?.[env.msg as string]?.at === env.timerAt) {
      const { [env.msg as string]: _done, ...rest } = this.rec.timers;
      this.rec = { ...this.rec, timers: nonEmpty(rest) };
      this.changed();
    }
    if (effects.length > 0) this.queueEffects(effects);
  }

  /** Restart: forget what is not durable and reload from the store once no write is in flight. */
  restart(): void {
    this.phase = PHASE_LOADING;
    if (this.isCommitting) {
      this.restartRequested = true;
      return;
    }
    this.discardUndurable(new MailroomError('ACTOR_RESTARTED'));
    this.host.reload(this);
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

  private discardUndurable(error: MailroomError): void {
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
      if (which(item)) this.host.abandon(this, item, error);
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
    this.afterCommitSettled();
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
    // A timer that fired in a reverted turn is back in the record but no longer in the heap, so it
    // would wait for the next activation (for the outbox timer: redelivery stopped for good).
    if (this.rec.timers) this.host.rearmTimersLater(this);
    this.afterCommitSettled();
  }

  private afterCommitSettled(): void {
    if (this.phase === PHASE_STOPPED) {
      this.host.evictStopped(this);
      return;
    }
    if (this.restartRequested) {
      this.restartRequested = false;
      this.discardUndurable(new MailroomError('ACTOR_RESTARTED'));
      this.host.reload(this);
      return;
    }
    if (this.isDirty) this.host.markDirty(this);
    if (this.hasWork()) this.host.schedule(this);
    else if (this.isDone) this.host.leaveFinished(this, this.armedUntil);
  }

  /**
   * Written in a finished state, with nothing to deliver or write: kept in memory, such a cell
   * would only wait out its idle time (finished jobs at 50k/s: half a million cells, each copied
   * twice by the collector before it went). Firings it armed may still come; the system judges
   * those from the timers it leaves with (see leaveFinished).
   */
  private get isDone(): boolean {
    return (
      this.logic.finished !== undefined &&
      this.rec.outbox === null &&
      this.canPassivate &&
      this.logic.finished(this.rec.state)
    );
  }

  private releaseDurable(): void {
    const pending = this.pending;
    if (!pending) return;
    let released = 0;
    while (released < pending.length && pending[released]!.version <= this.durableVersion) {
      this.host.perform(this, pending[released]!);
      released++;
    }
    this.pending = released === pending.length ? null : pending.slice(released);
  }

  /** Hands every queued message back (for dead-lettering when the cell cannot continue). */
  drainMailbox(): Envelope[] {
    return this.mailbox ? this.mailbox.drain() : [];
  }
}

function nonEmpty<T extends object>(value: T): T | null {
  for (const _ in value) return value;
  return null;
}
