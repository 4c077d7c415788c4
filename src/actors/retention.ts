/**
 * Finished jobs and workflows, idempotency keys and worker sessions are removed `retention_ms`
 * after they end, when their `expire` timer fires. Those firings can wait while the server is
 * busy (`ActorLogic.backgroundTimers`): past its retention, a server has them due at the rate it
 * finished work a retention ago.
 */
export const RETENTION_TIMERS: readonly string[] = Object.freeze(['expire']);
