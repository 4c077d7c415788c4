/**
 * What travels through a mailbox. One object shape for every message keeps the hot path
 * monomorphic; `sys` tells the runtime's own messages from the logic's.
 */
import type { MailroomError } from '../errors.js';
import type { ClockTimer } from './clock.js';

export const SYS_USER = 0;
export const SYS_TIMER = 1;
export const SYS_CONFIRM = 2;
export type SysKind = typeof SYS_USER | typeof SYS_TIMER | typeof SYS_CONFIRM;

/** The caller's side of an ask; settled once, by reply, error or timeout. */
export interface AskHandle {
  resolve(value: unknown): void;
  reject(error: MailroomError): void;
  timer: ClockTimer | null;
  settled: boolean;
}

export interface Envelope {
  msg: unknown;
  ask: AskHandle | null;
  /** Reliable sender (`kind:id`); with `seq`, the position on that sender's channel to us. */
  from: string | null;
  seq: number;
  sys: SysKind;
  /** For SYS_TIMER: the timer's name is `msg`, its deadline is here (stale firings are dropped). */
  timerAt: number;
  /** Failed attempts so far under the restart directive. */
  attempt: number;
}

export function envelope(msg: unknown, ask: AskHandle | null = null): Envelope {
  return { msg, ask, from: null, seq: 0, sys: SYS_USER, timerAt: 0, attempt: 0 };
}

export function settleAsk(ask: AskHandle, clearTimer: (timer: ClockTimer) => void): boolean {
  if (ask.settled) return false;
  ask.settled = true;
  if (ask.timer) clearTimer(ask.timer);
  ask.timer = null;
  return true;
}
