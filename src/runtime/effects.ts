/**
 * Effects requested during a turn. They are held with the version of the actor's record that
 * produced them and performed only once that version (or a later one) is durable.
 */
import type { MailroomError } from '../errors.js';
import type { ActorRef } from './actor.js';
import type { AskHandle } from './envelope.js';

export const EFFECT_TELL = 0;
export const EFFECT_REPLY = 1;
export const EFFECT_REPLY_ERROR = 2;
export const EFFECT_EMIT = 3;
/** Delivery of an outbox entry to its receiver. */
export const EFFECT_SEND_RELIABLE = 4;
/** Confirmation to a reliable sender that we durably handled its message. */
export const EFFECT_CONFIRM = 5;

export interface Effect {
  op: number;
  version: number;
  to: ActorRef | null;
  value: unknown;
  ask: AskHandle | null;
  seq: number;
  error: MailroomError | null;
  /** For EFFECT_SEND_RELIABLE and EFFECT_TELL: the receiver was never written (see AskOptions.fresh). */
  fresh: boolean;
}

export function effect(
  op: number,
  to: ActorRef | null,
  value: unknown,
  ask: AskHandle | null = null,
  seq = 0,
  error: MailroomError | null = null,
): Effect {
  return { op, version: 0, to, value, ask, seq, error, fresh: false };
}
