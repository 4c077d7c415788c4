/**
 * Performs a turn's effects once the state that produced them is durable, and gives them up when it
 * never will be. Kept apart from the system because it is one closed switch over the EFFECT_* ops
 * that needs only delivery, the event listeners, dead letters, the clock and the log.
 */
import type { Logger } from 'pino';
import type { MailroomError } from '../errors.js';
import type { SourcedEvent } from './actor-system.js';
import type { ActorCell } from './cell.js';
import type { Clock, ClockTimer } from './clock.js';
import type { DeadLetterSink } from './dead-letters.js';
import type { Effect } from './effects.js';
import {
  EFFECT_CONFIRM,
  EFFECT_EMIT,
  EFFECT_REPLY,
  EFFECT_REPLY_ERROR,
  EFFECT_SEND_RELIABLE,
  EFFECT_TELL,
} from './effects.js';
import type { Envelope } from './envelope.js';
import { envelope, SYS_CONFIRM, settleAsk } from './envelope.js';
import { parseRefKey } from './turn-context.js';

/** The system's delivery: hands an envelope to an actor, activating it first if need be. */
export type Deliver = (kind: string, id: string, env: Envelope, fresh?: boolean) => void;

export class EffectRunner {
  // Made once: settling an ask runs per reply and must not allocate a closure each time.
  private readonly clearTimer: (timer: ClockTimer) => void;

  constructor(
    private readonly deliver: Deliver,
    private readonly eventListeners: ReadonlySet<(event: SourcedEvent) => void>,
    private readonly deadLetters: DeadLetterSink,
    clock: Clock,
    private readonly logger: Logger,
  ) {
    this.clearTimer = (t) => clock.clearTimeout(t);
  }

  perform(cell: ActorCell, item: Effect): void {
    switch (item.op) {
      case EFFECT_TELL:
        this.deliver(item.to!.kind, item.to!.id, envelope(item.value), item.fresh);
        return;
      case EFFECT_REPLY:
        if (item.ask && settleAsk(item.ask, this.clearTimer)) item.ask.resolve(item.value);
        return;
      case EFFECT_REPLY_ERROR:
        if (item.ask && settleAsk(item.ask, this.clearTimer)) item.ask.reject(item.error!);
        return;
      case EFFECT_EMIT: {
        const sourced: SourcedEvent = {
          source: { kind: cell.kind, id: cell.id },
          event: item.value,
          seq: item.seq,
        };
        for (const listener of this.eventListeners) {
          try {
            listener(sourced);
          } catch (error) {
            this.logger.error({ err: error }, 'event listener threw');
          }
        }
        return;
      }
      case EFFECT_SEND_RELIABLE: {
        const env = envelope(item.value);
        env.from = cell.key;
        env.seq = item.seq;
        this.deliver(item.to!.kind, item.to!.id, env, item.fresh);
        return;
      }
      case EFFECT_CONFIRM: {
        const sender = parseRefKey(item.value as string);
        const env = envelope(null);
        env.sys = SYS_CONFIRM;
        env.from = cell.key;
        env.seq = item.seq;
        this.deliver(sender.kind, sender.id, env);
        return;
      }
    }
  }

  abandon(cell: ActorCell, item: Effect, error: MailroomError): void {
    if (item.op === EFFECT_REPLY || item.op === EFFECT_REPLY_ERROR) {
      if (item.ask && settleAsk(item.ask, this.clearTimer)) item.ask.reject(error);
      return;
    }
    if (item.op === EFFECT_TELL || item.op === EFFECT_EMIT) {
      this.deadLetters.record({
        type: 'dead_letter',
        reason: error.code === 'STORE_UNAVAILABLE' ? 'store_failed' : 'stopped',
        kind: cell.kind,
        id: cell.id,
        msg: item.value,
        error: error.message,
      });
    }
    // Reliable sends and confirmations need no notice: the outbox and redelivery cover them.
  }
}
