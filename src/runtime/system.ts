/**
 * createSystem({store, clock, logger}): the actor system. It owns the cells in memory, activates
 * virtual actors on their first message, runs the scheduler and group commit, drives durable
 * timers from one heap, performs effects once durable, passivates idle actors and routes failures
 * to supervision. It knows nothing of the domain: kinds and their logic are registered by callers.
 */
import type { Logger } from 'pino';
import { MailroomError } from '../errors.js';
import type { ActorLogic, ActorRef, StateCodec } from './actor.js';
import type {
  ActorSystem,
  AnyActorLogic,
  AskOptions,
  SourcedEvent,
  SystemOptions,
  SystemStats,
} from './actor-system.js';
import { ActorCell, type CellHost, PHASE_LOADING, PHASE_READY } from './cell.js';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import { DeadLetterSink } from './dead-letters.js';
import { EffectRunner } from './effect-runner.js';
import type { Effect } from './effects.js';
import type { AskHandle, Envelope } from './envelope.js';
import { envelope, SYS_TIMER, SYS_USER, settleAsk } from './envelope.js';
import { GroupCommit } from './group-commit.js';
import { Mailbox } from './mailbox.js';
import { Residency } from './residency.js';
import { DURABLE_BUSY_TURN_MICROS, Scheduler } from './scheduler.js';
import { silentLogger } from './silent-logger.js';
import type { ListOptions, ListPage, SnapshotStore } from './store/snapshot-store.js';
import type { DeadLetter, DeadLetterReason } from './supervisor.js';
import { SystemTimers } from './system-timers.js';

export type {
  ActorSystem,
  AnyActorLogic,
  AskOptions,
  SourcedEvent,
  SystemOptions,
  SystemStats,
} from './actor-system.js';

export function createSystem(options: SystemOptions): ActorSystem {
  return new System(options);
}

class System implements ActorSystem, CellHost {
  readonly store: SnapshotStore;
  readonly clock: Clock;
  readonly redeliverMs: number;
  readonly confirmedDelivery: boolean;
  private readonly logger: Logger;
  private readonly logics = new Map<string, ActorLogic<unknown, unknown>>();
  private readonly residency: Residency;
  private readonly scheduler: Scheduler;
  private readonly committer: GroupCommit;
  private readonly timers: SystemTimers;
  private readonly eventListeners = new Set<(event: SourcedEvent) => void>();
  private readonly passivateAfterMs: number;
  private readonly askTimeoutMs: number;
  private readonly onEscalate: (error: unknown, ref: ActorRef, msg: unknown) => void;
  private loading = 0;
  private busy = 0;
  private readonly deadLetters: DeadLetterSink;
  private readonly effects: EffectRunner;
  private stopping = false;

  constructor(options: SystemOptions) {
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.deadLetters = new DeadLetterSink(this.clock, this.logger);
    this.effects = new EffectRunner(
      (kind, id, env, fresh) => this.deliver(kind, id, env, fresh),
      this.eventListeners,
      this.deadLetters,
      this.clock,
      this.logger,
    );
    this.passivateAfterMs = options.passivateAfterMs ?? 60_000;
    this.residency = new Residency(this.clock, this.passivateAfterMs);
    this.askTimeoutMs = options.askTimeoutMs ?? 10_000;
    this.redeliverMs = options.redeliverMs ?? 2_000;
    this.confirmedDelivery = options.confirmedDelivery ?? this.store.durable;
    this.onEscalate =
      options.onEscalate ??
      ((error, ref) =>
        this.logger.error({ err: error, actor: ref }, 'actor failure escalated; actor stopped'));
    this.committer = new GroupCommit(
      this.store,
      (error) => this.onCommitSettled(error),
      options.maxCommitsInFlight,
      options.maxWritesPerCommit,
    );
    this.scheduler = new Scheduler({
      ...(this.store.durable ? { busyTurnMicros: DURABLE_BUSY_TURN_MICROS } : {}),
      ...options.scheduler,
      afterTurn: () => this.committer.flush(),
    });
    this.timers = new SystemTimers({
      store: this.store,
      clock: this.clock,
      logger: this.logger,
      horizonMs: options.timerHorizonMs ?? 60_000,
      retryMs: this.redeliverMs,
      // Long enough to cover the redelivery timer of a message sent just before finishing.
      departedSpanMs: 2.5 * this.redeliverMs,
      runs: (kind) => this.logics.has(kind),
      resident: (kind, id) => this.residency.get(kind, id),
      fire: (kind, id, name, at) => this.fire(kind, id, name, at),
      isBackground: (kind, name) => this.logics.get(kind)?.backgroundTimers?.includes(name) === true,
      isRemoval: (kind, name) => this.logics.get(kind)?.removalTimers?.includes(name) === true,
      load: (cell) => {
        if (this.residency.get(cell.kind, cell.id) === cell) this.load(cell);
      },
      loadsInFlight: () => this.loading,
      writesWaiting: () => this.committer.waiting,
    });
    for (const [kind, logic] of Object.entries(options.actors ?? {})) this.register(kind, logic);
    this.residency.start();
    this.timers.start();
  }

  register(kind: string, logic: AnyActorLogic): void {
    if (kind.includes(':')) throw new Error(`actor kind "${kind}" must not contain ':'`);
    if (this.logics.has(kind)) throw new Error(`actor kind "${kind}" is already registered`);
    this.logics.set(kind, logic as ActorLogic<unknown, unknown>);
    if (logic.snapshot) this.store.useCodec?.(kind, logic.snapshot as StateCodec);
    // Swept from their own set (removal-sweep.ts) where the store keeps one.
    if (logic.removalTimers && this.store.loadRemovalTimers)
      this.store.useRemovalTimers?.(kind, logic.removalTimers);
    const idleMs =
      logic.passivateAfterMs ?? (logic.ephemeral ? Number.POSITIVE_INFINITY : this.passivateAfterMs);
    this.residency.addKind(kind, idleMs);
  }

  ref(kind: string, id: string): ActorRef {
    return { kind, id };
  }

  tell(to: ActorRef, msg: unknown): void {
    this.deliver(to.kind, to.id, envelope(msg));
  }

  ask<R = unknown>(to: ActorRef, msg: unknown, options?: AskOptions): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const handle: AskHandle = {
        resolve: resolve as (value: unknown) => void,
        reject,
        timer: null,
        settled: false,
      };
      const timeoutMs = options?.timeoutMs ?? this.askTimeoutMs;
      handle.timer = this.clock.setTimeout(() => {
        if (settleAsk(handle, () => {})) {
          handle.reject(
            new MailroomError('ASK_TIMEOUT', `${to.kind}:${to.id} did not answer within ${timeoutMs} ms`),
          );
        }
      }, timeoutMs);
      this.deliver(to.kind, to.id, envelope(msg, handle), options?.fresh === true);
    });
  }

  onEvent(listener: (event: SourcedEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  onDeadLetter(listener: (letter: DeadLetter) => void): () => void {
    return this.deadLetters.listen(listener);
  }

  async recover(): Promise<{ timers: number }> {
    return { timers: await this.timers.recover() };
  }

  list(kind: string, tag: string, options: ListOptions): Promise<ListPage> {
    return this.store.list(kind, tag, options);
  }

  count(kind: string, tag: string): Promise<number> {
    return this.store.count(kind, tag);
  }

  idle(): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (
          this.scheduler.queuedCount === 0 &&
          this.loading === 0 &&
          this.timers.removalsPending === 0 &&
          this.busy === 0 &&
          this.committer.idle
        ) {
          resolve();
        } else {
          setImmediate(check);
        }
      };
      check();
    });
  }

  sweep(): void {
    this.residency.sweep();
  }

  writeDeferred(): void {
    for (const cell of this.residency.all()) cell.writeUnwritten();
  }

  peek(ref: ActorRef): { state: unknown } | undefined {
    const cell = this.residency.get(ref.kind, ref.id);
    return cell?.isSettled ? { state: cell.rec.state } : undefined;
  }

  isResident(ref: ActorRef): boolean {
    return this.residency.get(ref.kind, ref.id) !== undefined;
  }

  stats(): SystemStats {
    return {
      resident: this.residency.count,
      processed: this.scheduler.processed,
      commits: this.committer.stats.commits,
      writes: this.committer.stats.writes,
      commitFailures: this.committer.stats.failures,
      timers: this.timers.size,
      deadLetters: this.deadLetters.count,
    };
  }

  async shutdown(options?: { timeoutMs?: number }): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.residency.stop();
    this.timers.stop();
    this.writeDeferred();
    const timeoutMs = options?.timeoutMs ?? 5_000;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.idle(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  // ---- delivery -------------------------------------------------------------------------------

  private deliver(kind: string, id: string, env: Envelope, fresh = false): void {
    if (this.stopping && env.sys === SYS_USER && env.from === null) {
      this.deadLetters.refuse(kind, id, env, 'system_stopped', new MailroomError('SYSTEM_STOPPED'));
      return;
    }
    const cells = this.residency.cellsOf(kind);
    if (!cells) {
      this.deadLetters.refuse(
        kind,
        id,
        env,
        'unknown_kind',
        new MailroomError('UNKNOWN_ACTOR_KIND', `no actor kind "${kind}"`),
      );
      return;
    }
    let cell = cells.get(id);
    if (!cell) {
      cell = new ActorCell(kind, id, this.logics.get(kind)!, this);
      this.residency.admit(cell, this.clock.now());
      cell.mailbox = new Mailbox<Envelope>();
      if (fresh) {
        cell.activate(undefined);
      } else {
        // A fresh actor (an id never written) cannot have departed before.
        this.timers.returned(cell);
        if (this.timers.removing(kind, id)) this.timers.loadAfterRemoval(cell);
        else this.load(cell);
      }
    }
    cell.mailbox ??= new Mailbox<Envelope>();
    if (env.sys === SYS_USER) cell.mailbox.post(env);
    else cell.mailbox.postSystem(env);
    if (cell.phase === PHASE_READY) this.scheduler.schedule(cell);
  }

  private fire(kind: string, id: string, name: string, at: number): void {
    const env = envelope(name);
    env.sys = SYS_TIMER;
    env.timerAt = at;
    this.deliver(kind, id, env);
  }

  private load(cell: ActorCell): void {
    this.loading++;
    cell.phase = PHASE_LOADING;
    this.store.load(cell.kind, cell.id).then(
      (record) => {
        this.loading--;
        if (this.residency.get(cell.kind, cell.id) !== cell) return;
        cell.activate(record);
      },
      (cause: unknown) => {
        this.loading--;
        this.logger.warn({ err: cause, actor: cell.key }, 'actor activation failed: store unavailable');
        const error = new MailroomError('STORE_UNAVAILABLE', 'could not load actor state', { cause });
        this.evict(cell);
        for (const env of cell.drainMailbox()) {
          // The heap has forgotten a firing it delivered; dropped here, the timer would wait for
          // the actor's next activation. Tried again after a pause (see rearmTimersLater).
          if (env.sys === SYS_TIMER) this.timers.armLater(cell.kind, cell.id, env.msg as string, env.timerAt);
          else this.deadLetters.refuse(cell.kind, cell.id, env, 'store_failed', error);
        }
      },
    );
  }

  private evict(cell: ActorCell): void {
    this.residency.evict(cell);
  }

  // ---- CellHost -------------------------------------------------------------------------------

  now(): number {
    return this.clock.now();
  }

  schedule(cell: ActorCell): void {
    this.scheduler.schedule(cell);
  }

  markDirty(cell: ActorCell): void {
    this.committer.add(cell);
    this.scheduler.requestTurn();
  }

  armTimer(cell: ActorCell, name: string, at: number): boolean {
    return this.timers.arm(cell, name, at);
  }

  rearmTimersLater(cell: ActorCell): void {
    this.timers.rearmLater(cell);
  }

  busyChanged(delta: number): void {
    this.busy += delta;
  }

  perform(cell: ActorCell, item: Effect): void {
    this.effects.perform(cell, item);
  }

  abandon(cell: ActorCell, item: Effect, error: MailroomError): void {
    this.effects.abandon(cell, item, error);
  }

  deadLetter(cell: ActorCell, reason: DeadLetterReason, env: Envelope, error?: unknown): void {
    this.deadLetters.recordFromActor(cell, reason, env, error);
  }

  reload(cell: ActorCell): void {
    this.load(cell);
  }

  stop(cell: ActorCell): void {
    cell.markStopped();
    const error = new MailroomError('ACTOR_STOPPED');
    for (const env of cell.drainMailbox()) this.deadLetters.refuse(cell.kind, cell.id, env, 'stopped', error);
    // With a write in flight, a new activation would load the older snapshot and later overwrite
    // the acknowledged write; the stopped cell stays registered until the write settles.
    if (!cell.isCommitting) this.evict(cell);
  }

  evictStopped(cell: ActorCell): void {
    this.evict(cell);
    // Messages that arrived after the stop reactivate the actor from the now-current snapshot.
    for (const env of cell.drainMailbox()) this.deliver(cell.kind, cell.id, env);
  }

  leaveFinished(cell: ActorCell, lastFiringAt: number): void {
    if (lastFiringAt >= this.clock.now() && !this.timers.depart(cell, lastFiringAt)) return;
    this.evict(cell);
  }

  escalate(cell: ActorCell, error: unknown, msg: unknown): void {
    try {
      this.onEscalate(error, { kind: cell.kind, id: cell.id }, msg);
    } catch (guardianError) {
      this.logger.error({ err: guardianError }, 'escalation handler threw');
    }
  }

  // ---- internals ------------------------------------------------------------------------------

  private onCommitSettled(error: MailroomError | null): void {
    if (error)
      this.logger.warn(
        { err: error },
        'group commit failed; affected actors reverted to their last snapshot',
      );
    this.committer.flush();
  }
}
