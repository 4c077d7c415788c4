/**
 * Finished jobs and workflows, idempotency keys and worker sessions are removed `retention_ms`
 * after they end, when their `expire` timer fires. Past its retention, a server has them due at the
 * rate it finished work a retention ago, so:
 * - they can wait while the server is busy (`ActorLogic.backgroundTimers`);
 * - the store carries them out without loading the actor (`ActorLogic.removalTimers`): each kind
 *   arms `expire` only in the states its `expire` handler removes, and cancels it on leaving them.
 */
export const RETENTION_TIMERS: readonly string[] = Object.freeze(['expire']);
