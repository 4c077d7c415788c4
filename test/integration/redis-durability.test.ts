/**
 * The runtime on a real Redis: acknowledgements follow durability, an unreachable Redis surfaces
 * as STORE_UNAVAILABLE with nothing reported done, and a SIGKILLed process loses nothing it
 * acknowledged while every due timer fires once after recovery.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { MailroomError } from '../../src/errors.js';
import { createRedisStore, type RedisStore } from '../../src/runtime/store/redis-store.js';
import { createSystem } from '../../src/runtime/system.js';
import { type LedgerState, ledger } from '../fixtures/ledger-actor.js';
import { startThrowawayRedis, uniquePrefix } from '../support/redis.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function store(url: string, prefix: string): Promise<RedisStore> {
  const created = await createRedisStore({ url, prefix });
  cleanups.push(() => created.close());
  return created;
}

describe('actor system on Redis', () => {
  it('acknowledges an ask only when its state is already in Redis', async () => {
    const prefix = uniquePrefix('ack');
    const s = await store(inject('redisUrl'), prefix);
    const system = createSystem({ store: s, actors: { ledger } });
    const probe = new Redis(inject('redisUrl'));
    cleanups.push(() => probe.quit());
    const checks = Array.from({ length: 200 }, async (_, i) => {
      await system.ask({ kind: 'ledger', id: `a${i}` }, { type: 'set', value: i, fireInMs: 60_000 });
      // Read through a different connection right after the ack.
      const exists = await probe.exists(s.keys.snapshot('ledger', `a${i}`));
      return exists;
    });
    expect((await Promise.all(checks)).every((exists) => exists === 1)).toBe(true);
    expect(system.stats().commits).toBeLessThan(200);
    await system.shutdown();
  });

  it('reports STORE_UNAVAILABLE while Redis is down, then recovers without losing acknowledged state', async () => {
    const redis = await startThrowawayRedis();
    cleanups.push(() => redis.dispose());
    const s = await createRedisStore({
      url: redis.url,
      prefix: uniquePrefix('down'),
      commandTimeoutMs: 1_000,
    });
    cleanups.push(() => s.close());
    const system = createSystem({ store: s, actors: { ledger } });
    await system.ask({ kind: 'ledger', id: 'x' }, { type: 'set', value: 1, fireInMs: 60_000 });

    await redis.stop();
    const failure = (await system
      .ask({ kind: 'ledger', id: 'x' }, { type: 'set', value: 2, fireInMs: 60_000 })
      .catch((error: unknown) => error)) as MailroomError;
    expect(failure.code).toBe('STORE_UNAVAILABLE');

    // Persistence is off on the throwaway server, so a restart loses everything; what matters here
    // is that the failed write was never reported done and the system serves again.
    await redis.start();
    await expect
      .poll(
        () =>
          s.ping().then(
            () => true,
            () => false,
          ),
        { timeout: 5_000 },
      )
      .toBe(true);
    await system.ask({ kind: 'ledger', id: 'y' }, { type: 'set', value: 3, fireInMs: 60_000 });
    const state = await system.ask<LedgerState>({ kind: 'ledger', id: 'y' }, { type: 'get' });
    expect(state.value).toBe(3);
    await system.shutdown();
  });

  it('keeps every acknowledged state across SIGKILL and fires every due timer exactly once after recovery', async () => {
    const url = inject('redisUrl');
    const prefix = uniquePrefix('crash');
    const fireInMs = 400;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/fixtures/crash-child.ts', url, prefix, String(fireInMs)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const acked = new Map<string, number>();
    const lines = createInterface({ input: child.stdout! });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once('exit', (_code, signal) => resolve(signal)),
    );
    await new Promise<void>((resolve, reject) => {
      const timeout = setTimeout(() => reject(new Error(`only ${acked.size} acks before timeout`)), 15_000);
      lines.on('line', (line) => {
        const [, id, value] = line.split(' ');
        acked.set(id!, Number(value));
        // Kill mid-stream, while the timers of the first acks are firing.
        if (acked.size === 3_000) {
          clearTimeout(timeout);
          child.kill('SIGKILL');
          resolve();
        }
      });
    });
    expect(await exited).toBe('SIGKILL');

    const s = await store(url, prefix);
    for (const [id, value] of acked) {
      const rec = await s.load('ledger', id);
      expect(rec, `acknowledged ${id} must be in Redis`).toBeDefined();
      expect((rec!.state as LedgerState).value).toBe(value);
    }

    const system = createSystem({ store: s, actors: { ledger } });
    const recovered = await system.recover();
    expect(recovered.timers).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, fireInMs + 200));
    await system.idle();
    await expect.poll(() => s.count('ledger', 'live'), { timeout: 10_000 }).toBe(0);
    for (const id of acked.keys()) {
      const state = await system.ask<LedgerState>({ kind: 'ledger', id }, { type: 'get' });
      expect(state.fired, `timer of ${id}`).toBe(1);
    }
    expect(await s.loadTimers(Number.POSITIVE_INFINITY)).toEqual([]);
    await system.shutdown();
  });
});
