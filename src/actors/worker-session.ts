/**
 * One remote worker's session: who it is, what it runs and whether it is connected. Persisted, so
 * `worker_connected` and `worker_disconnected` land in the durable event log like every other
 * event, and so workers can be listed. The dispatcher learns of joins, slot changes and departures
 * from here, after they are durable; a restart marks every session it finds connected as gone
 * (its socket died with the process).
 */
import type { ActorRef } from '../runtime/actor.js';
import { defineActor } from '../runtime/actor.js';
import { isoAt } from '../schemas/common.js';
import type { DispatcherMsg } from './dispatcher-messages.js';
import { DISPATCHER } from './dispatcher-messages.js';
import type { WorkerInfo } from './executors/executor.js';
import { eventId } from './ids.js';
import { RETENTION_TIMERS } from './retention.js';

export interface WorkerSessionState {
  worker: WorkerInfo;
  connected: boolean;
  connectedAt: number;
  disconnectedAt: number | null;
  reason: string | null;
}

export type WorkerSessionMsg =
  | { type: 'connect'; worker: WorkerInfo }
  | { type: 'slots'; slots: number }
  | { type: 'disconnect'; reason: string }
  | { type: 'get' }
  | { type: 'expire' };

export const WORKER_KIND = 'worker';

export function workerRef(id: string): ActorRef {
  return { kind: WORKER_KIND, id };
}

export function createWorkerSessionLogic(options: { retentionMs: number }) {
  return defineActor<WorkerSessionState | null, WorkerSessionMsg>({
    initial: () => null,
    backgroundTimers: RETENTION_TIMERS,
    removalTimers: RETENTION_TIMERS,
    index: (session) =>
      session
        ? {
            live: session.connected,
            tags: [session.connected ? 'connected' : 'disconnected'],
            score: session.connectedAt,
          }
        : { live: false },
    receive(session, msg, ctx) {
      switch (msg.type) {
        case 'connect': {
          if (session?.connected) return session;
          ctx.tell(DISPATCHER, { type: 'worker_joined', worker: msg.worker } satisfies DispatcherMsg);
          ctx.emit({
            id: eventId(),
            seq: 0,
            at: isoAt(ctx.now),
            trace_id: null,
            type: 'worker_connected',
            worker_id: msg.worker.id,
            name: msg.worker.name,
            types: [...msg.worker.types],
          });
          ctx.cancelTimer('expire');
          return {
            worker: msg.worker,
            connected: true,
            connectedAt: ctx.now,
            disconnectedAt: null,
            reason: null,
          };
        }
        case 'slots':
          if (!session?.connected || session.worker.slots === msg.slots) return session;
          ctx.tell(DISPATCHER, {
            type: 'worker_slots',
            workerId: session.worker.id,
            slots: msg.slots,
          } satisfies DispatcherMsg);
          return { ...session, worker: { ...session.worker, slots: msg.slots } };
        case 'disconnect':
          if (!session?.connected) return session;
          ctx.tell(DISPATCHER, { type: 'worker_left', workerId: session.worker.id } satisfies DispatcherMsg);
          ctx.emit({
            id: eventId(),
            seq: 0,
            at: isoAt(ctx.now),
            trace_id: null,
            type: 'worker_disconnected',
            worker_id: session.worker.id,
            name: session.worker.name,
            reason: msg.reason,
          });
          ctx.setTimer('expire', ctx.now + options.retentionMs, { type: 'expire' });
          return { ...session, connected: false, disconnectedAt: ctx.now, reason: msg.reason };
        case 'get':
          ctx.reply(session);
          return session;
        case 'expire':
          if (session && !session.connected) ctx.remove();
          return session;
      }
    },
  });
}
