/**
 * One actor in memory: its mailbox and its turns. A turn's new record and its effects go to the
 * durable half (durable-cell.ts), which holds the effects until the record is written.
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
import { DurableCell } from './durable-cell.js';
import type { Effect } from './effects.js';
import { EFFECT_CONFIRM, EFFECT_REPLY, EFFECT_REPLY_ERROR, effect } from './effects.js';
import type { Envelope } from './envelope.js';
import { SYS_CONFIRM, SYS_TIMER } from './envelope.js';
import type { Mailbox } from './mailbox.js';
import { resendEffects, withConfirmed, withRedeliveryRearmed } from './outbox.js';
import type { Runnable } from './scheduler.js';
import { withSeq } from './seq-table.js';
import type { ActorRecord } from './store/snapshot-store.js';
import type { DeadLetterReason, Directive } from './supervisor.js';
import { defaultStrategy } from './supervisor.js';
import { REDELIVER_TIMER, TurnContext } from './turn-context.js';

export type { CellHost } from './cell-host.js';
export { initialRecord, PHASE_BUSY, PHASE_LOADING, PHASE_READY, PHASE_STOPPED } from './cell-host.js';

export class ActorCell extends DurableCell implements Runnable {
  queued = false;
  inDirtyList = false;
  mailbox: Mailbox<Envelope> | null = null;
  private restartRequested = false;
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
    kind: string,
    id: string,
    logic: ActorLogic<unknown, unknown>,
    private readonly host: CellHost,
  ) {
    super(kind, id, logic);
  }

  /** `kind:id`, built on first use: it tags every reliable message and confirmation this cell sends. */
  get key(): string {
    this.refKeyCache ??= `${this.kind}:${this.id}`;
    return this.refKeyCache;
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

  /** Installs the loaded record (or the initial state) and starts serving the mailbox. */
  activate(loaded: ActorRecord | undefined): void {
    this.rec = loaded ?? initialRecord(this.logic.initial(this.id));
    this.durable = loaded ?? null;
    this.version = 0;
    this.durableVersion = 0;
    this.phase = PHASE_READY;
    this.restartRequested = false;
    if (this.rec.timers) {
      const now = this.host.now();
      for (const name in this.rec.timers) {
        const at = this.rec.timers[name]!.at;
        // The firing that brought the actor back waits in its mailbox. Armed again, it fired a
        // second time once the first was handled: a retention expiry loaded its job twice.
        if (at <= now && this.holdsFiring(name, at)) continue;
        this.armTimer(name, at);
      }
    }
    if (this.hasWork()) this.host.schedule(this);
  }

  private holdsFiring(name: string, at: number): boolean {
    return (
      this.mailbox?.someSystem((env) => env.sys === SYS_TIMER && env.msg === name && env.timerAt === at) ===
      true
    );
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
    // A message that changed nothing (a stale firing, a read of an actor that does not exist).
    if (mailbox.size === 0 && this.isForgotten) this.host.leaveFinished(this, this.armedUntil);
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
      this.replaceWithFresh({
        ...initialRecord(this.logic.initial(this.id)),
        timers: redeliver ? { [REDELIVER_TIMER]: redeliver } : null,
        outbox: ctx.outbox ?? rec.outbox,
        outSeq: ctx.outSeq ?? rec.outSeq,
        inSeq,
      });
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

  protected markDirty(): void {
    this.host.markDirty(this);
  }

  protected perform(item: Effect): void {
    this.host.perform(this, item);
  }

  protected abandon(item: Effect, error: MailroomError): void {
    this.host.abandon(this, item, error);
  }

  protected afterCommitSettled(reverted: boolean): void {
    // A timer that fired in a reverted turn is back in the record but no longer in the heap, so it
    // would wait for the next activation (for the outbox timer: redelivery stopped for good).
    if (reverted && this.rec.timers) this.host.rearmTimersLater(this);
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
    else if (this.isDone || (!reverted && this.isForgotten)) this.host.leaveFinished(this, this.armedUntil);
  }

  /**
   * The store holds nothing for this actor (never written, or its removal is written) and the cell
   * holds nothing unwritten: it can leave at once instead of waiting out its idle time. With jobs
   * expiring as fast as they finish, each removed job stayed, and so did each job that a second
   * firing of its `expire` timer loaded back only to drop it: 140k cells in memory after 11 s at
   * 14k jobs/s (docs/benchmarks.md §20). An ephemeral actor's state is never written: it stays.
   */
  private get isForgotten(): boolean {
    return (
      this.durable === null &&
      !this.logic.ephemeral &&
      this.rec.timers === null &&
      this.rec.outbox === null &&
      this.canPassivate
    );
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

  /** Hands every queued message back (for dead-lettering when the cell cannot continue). */
  drainMailbox(): Envelope[] {
    return this.mailbox ? this.mailbox.drain() : [];
  }
}

function nonEmpty<T extends object>(value: T): T | null {
  for (const _ in value) return value;
  return null;
}
