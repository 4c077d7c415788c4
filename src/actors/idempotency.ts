/**
 * One actor per idempotency key: the first submit claims it for a new id; later submits with the
 * same key (within retention) get that id back and create nothing.
 */
import type { ActorRef } from '../runtime/actor.js';
import { defineActor } from '../runtime/actor.js';
import { RETENTION_TIMERS } from './retention.js';

export interface IdempotencyState {
  id: string;
  claimedAt: number;
}

export type IdempotencyMsg = { type: 'claim'; id: string } | { type: 'expire' };

export interface Claim {
  id: string;
  created: boolean;
}

export const IDEMPOTENCY_KIND = 'idempotency';

/** Jobs and workflows have separate key spaces. */
export function idempotencyRef(resource: 'job' | 'workflow', key: string): ActorRef {
  return { kind: IDEMPOTENCY_KIND, id: `${resource}:${key}` };
}

export function createIdempotencyLogic(options: { retentionMs: number }) {
  return defineActor<IdempotencyState | null, IdempotencyMsg>({
    initial: () => null,
    backgroundTimers: RETENTION_TIMERS,
    removalTimers: RETENTION_TIMERS,
    index: () => ({ live: false }),
    receive(state, msg, ctx) {
      if (msg.type === 'expire') {
        if (state) ctx.remove();
        return state;
      }
      if (state) {
        ctx.reply({ id: state.id, created: false } satisfies Claim);
        return state;
      }
      ctx.setTimer('expire', ctx.now + options.retentionMs, { type: 'expire' });
      ctx.reply({ id: msg.id, created: true } satisfies Claim);
      return { id: msg.id, claimedAt: ctx.now };
    },
  });
}
