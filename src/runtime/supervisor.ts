/**
 * Supervision: what happens to an actor whose handler throws. Virtual actors have no parent, so
 * `escalate` goes to the system's guardian (createSystem's `onEscalate`).
 *  - resume:   keep the state from before the message; the message goes to dead letters.
 *  - restart:  drop everything not yet durable, reload from the last durable snapshot and retry the
 *              message; after `maxRetries` the message goes to dead letters (poison message).
 *  - stop:     take the actor out of memory; its queued messages go to dead letters.
 *  - escalate: hand the failure to the guardian, then stop.
 */
export type Directive = 'resume' | 'restart' | 'stop' | 'escalate';

export interface SupervisorStrategy {
  decide(error: unknown, msg: unknown, attempt: number): Directive;
  /** Times a message is retried under `restart` before it is dead-lettered. */
  maxRetries: number;
}

export function strategy(
  decide: Directive | SupervisorStrategy['decide'],
  maxRetries = 3,
): SupervisorStrategy {
  return { decide: typeof decide === 'function' ? decide : () => decide, maxRetries };
}

export const defaultStrategy: SupervisorStrategy = strategy('restart', 3);

export type DeadLetterReason =
  | 'poison'
  | 'resumed'
  | 'stopped'
  | 'store_failed'
  | 'unknown_kind'
  | 'system_stopped'
  | 'gap';

export interface DeadLetter {
  type: 'dead_letter';
  reason: DeadLetterReason;
  kind: string;
  id: string;
  msg: unknown;
  error?: string;
}
