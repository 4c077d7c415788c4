/**
 * Liveness and readiness. Liveness never touches the store (a slow store must not get the process
 * killed); readiness does, so a load balancer stops routing here while the store is away, and it
 * checks the payload pool too (closed, or its queue full: OVERLOADED).
 */
import { isMailroomError } from '../../../errors.js';
import type { Logger } from '../../../logger.js';
import type { HttpReply } from '../exchange.js';
import type { Router } from '../router.js';

export interface HealthOptions {
  storeName: string;
  /**
   * Resolves when everything a request needs (the store, the payload pool) answers. A rejection
   * with a registry error other than STORE_UNAVAILABLE (the pool's OVERLOADED) is answered with its code.
   */
  ready: () => Promise<void>;
  /** A check that has not answered by then counts as not ready. */
  readyTimeoutMs?: number;
  logger: Logger;
}

const ALIVE: HttpReply = { status: 200, body: { status: 'ok' } };

export function addHealthRoutes(router: Router, options: HealthOptions): void {
  const timeoutMs = options.readyTimeoutMs ?? 2_000;
  const readyBody = { status: 'ready', store: options.storeName };
  const unavailable: HttpReply = {
    status: 503,
    headers: { 'retry-after': '1' },
    body: {
      error: { code: 'STORE_UNAVAILABLE', message: `The store (${options.storeName}) is unreachable` },
    },
  };
  // Probes poll every few seconds; log only when readiness changes, not on every failed probe.
  let lastReady = true;

  router.add('GET', '/health', () => ALIVE);
  router.add('GET', '/health/ready', async () => {
    try {
      await withTimeout(options.ready(), timeoutMs);
      if (!lastReady) options.logger.info({ store: options.storeName }, 'ready again');
      lastReady = true;
      return { status: 200, body: readyBody };
    } catch (error) {
      if (lastReady) options.logger.warn({ err: error, store: options.storeName }, 'not ready');
      lastReady = false;
      if (isMailroomError(error) && error.status === 503 && error.code !== 'STORE_UNAVAILABLE') {
        return { ...unavailable, body: { error: { code: error.code, message: error.message } } };
      }
      return unavailable;
    }
  });
}

function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
